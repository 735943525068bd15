using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

// Sends sequential chat completions to one target over one kept-alive connection.
//   StreamProbe --url URL [--header "Name: value"]... [--count 40] [--warmup 5] [--chunks 5] [--include-usage]
//     streaming: times, per request, the first body byte (TTFB, from just before the request is sent) and the arrival
//     of each SSE event. Prints RESULT count=.. ttfb_p50_ms=.. ttfb_p90_ms=.. gap_p50_ms=.. gap_p90_ms=.. (gaps
//     between the first --chunks events, the content chunks).
//   StreamProbe --json --url URL [--header ...] [--count 2000] [--warmup 200]
//     non-streaming: the latency of each whole call, as measured (no coordinated-omission correction, unlike wrk).
//     Prints RESULT count=.. p50_us=.. p90_us=.. p99_us=.. mean_us=.. max_us=..; with --slow-ms X, first one line
//     per call slower than X: SLOW at_s=<seconds since the first measured call> ms=<latency>
//     --duration-s S stops after S seconds even if --count calls were not made
// Exits 1 with the reason when a call fails.
string? url = null;
var json = false;
double slowMs = double.PositiveInfinity, durationS = double.PositiveInfinity;
var headers = new List<(string Name, string Value)>();
int count = 40, warmup = 5, chunks = 5;
var includeUsage = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--url": url = args[++i]; break;
        case "--header":
            var header = args[++i];
            var colon = header.IndexOf(':');
            headers.Add((header[..colon].Trim(), header[(colon + 1)..].Trim()));
            break;
        case "--count": count = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--warmup": warmup = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--chunks": chunks = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--include-usage": includeUsage = true; break;
        case "--json": json = true; break;
        case "--slow-ms": slowMs = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--duration-s": durationS = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}
if (url is null)
{
    Console.Error.WriteLine("usage: StreamProbe --url URL [--header \"Name: value\"]... [--count N] [--warmup N] [--chunks N] [--include-usage]");
    return 2;
}

var body = Encoding.UTF8.GetBytes(
    "{\"model\":\"gpt-4o-mini\",\"stream\":true," + (includeUsage ? "\"stream_options\":{\"include_usage\":true}," : "")
    + "\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}]}");
using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AutomaticDecompression = DecompressionMethods.None, MaxConnectionsPerServer = 1 })
{
    Timeout = TimeSpan.FromSeconds(30),
};

if (json)
    return await MeasureJsonAsync(client, url, headers, count, warmup, slowMs, durationS);

var ttfbs = new List<double>();
var gaps = new List<double>();
var buffer = new byte[64 * 1024];
for (var n = 0; n < warmup + count; n++)
{
    using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
    request.Content.Headers.ContentType = new("application/json");
    foreach (var (name, value) in headers)
        request.Headers.TryAddWithoutValidation(name, value);

    var started = Stopwatch.GetTimestamp();
    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    if (response.StatusCode != HttpStatusCode.OK)
    {
        Console.Error.WriteLine($"request {n}: HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return 1;
    }
    await using var stream = await response.Content.ReadAsStreamAsync();
    double? firstByte = null;
    var eventTimes = new List<double>();
    var text = new StringBuilder();
    var scanned = 0;
    int read;
    while ((read = await stream.ReadAsync(buffer)) > 0)
    {
        var at = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        firstByte ??= at;
        text.Append(Encoding.UTF8.GetString(buffer, 0, read));
        // Every event completed by this read arrived at this read's time.
        int end;
        while ((end = text.ToString().IndexOf("\n\n", scanned, StringComparison.Ordinal)) >= 0)
        {
            eventTimes.Add(at);
            scanned = end + 2;
        }
    }
    var all = text.ToString();
    if (!all.TrimEnd().EndsWith("data: [DONE]", StringComparison.Ordinal) || eventTimes.Count < chunks + 1)
    {
        Console.Error.WriteLine($"request {n}: expected {chunks} chunks and [DONE], got {eventTimes.Count} events: {all[..Math.Min(all.Length, 400)]}");
        return 1;
    }
    if (n < warmup)
        continue;
    ttfbs.Add(firstByte!.Value);
    for (var i = 1; i < chunks; i++)
        gaps.Add(eventTimes[i] - eventTimes[i - 1]);
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"RESULT count={count} ttfb_p50_ms={Percentile(ttfbs, 50):F3} ttfb_p90_ms={Percentile(ttfbs, 90):F3} gap_p50_ms={Percentile(gaps, 50):F3} gap_p90_ms={Percentile(gaps, 90):F3}"));
return 0;

static async Task<int> MeasureJsonAsync(HttpClient client, string url, List<(string Name, string Value)> headers, int count, int warmup, double slowMs, double durationS)
{
    long measuring = 0;
    var body = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello."}],"max_tokens":16}"""u8.ToArray();
    var latencies = new List<double>(count);
    for (var n = 0; n < warmup + count; n++)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        foreach (var (name, value) in headers)
            request.Headers.TryAddWithoutValidation(name, value);
        var started = Stopwatch.GetTimestamp();
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        if (response.StatusCode != HttpStatusCode.OK)
        {
            Console.Error.WriteLine($"request {n}: HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            return 1;
        }
        if (n < warmup)
            continue;
        if (n == warmup)
            measuring = started;
        latencies.Add(elapsed);
        var at = Stopwatch.GetElapsedTime(measuring).TotalSeconds;
        if (elapsed / 1000 > slowMs)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"SLOW at_s={at:F3} ms={elapsed / 1000:F1}"));
        if (at > durationS)
            break;
    }
    count = latencies.Count;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"RESULT count={count} p50_us={Percentile(latencies, 50):F0} p90_us={Percentile(latencies, 90):F0} p99_us={Percentile(latencies, 99):F0} mean_us={latencies.Average():F0} max_us={latencies.Max():F0}"));
    return 0;
}

static double Percentile(List<double> values, double p)
{
    var sorted = values.Order().ToArray();
    var rank = p / 100 * (sorted.Length - 1);
    var low = (int)Math.Floor(rank);
    var high = (int)Math.Ceiling(rank);
    return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}
