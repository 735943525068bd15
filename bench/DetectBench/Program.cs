// Detection quality (bench/detect/run.sh): five weeks of synthetic traffic for 200 relay keys and 20 provider keys, with
// the incidents of bench/detect/incidents.txt injected, fed window by window through the sweep's own pass (WindowTally
// and its rollup) into the library's detectors, baseline statistics and warm-up, budget rule and shadow-usage
// judgement. The seams the sweep reads through tables (baselines, known sources, the relay keys' allow-lists, budget
// spend, provider usage reports) are held in memory here. Prints per detector what was found, missed and falsely
// raised, and exits non-zero when an acceptance target of issue 21 is missed.
//   DetectBench --incidents bench/detect/incidents.txt [--seed 1] [--days 35] [--out results.txt]
//   DetectBench --list-keys [--seed 1]      every key's shape, to write incidents against
//   ... --trace rk021                        that key's calls, tokens and baseline per window on stderr
using System.Diagnostics;
using System.Globalization;
using FuncKeyOps.Bench.DetectBench;

var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i + 1 < args.Length; i += 2)
    options[args[i].TrimStart('-')] = args[i + 1];
var seed = int.Parse(options.GetValueOrDefault("seed") ?? "1", CultureInfo.InvariantCulture);
var days = int.Parse(options.GetValueOrDefault("days") ?? Population.Days.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

if (args.Contains("--list-keys"))
{
    // For whoever writes incidents: each key's shape.
    var population = new Population(seed);
    foreach (var key in population.RelayKeys)
        Console.WriteLine(FormattableString.Invariant($"{key.Id} tenant={key.Tenant.Id} zone={key.Tenant.TimeZoneId} providerKey={key.ProviderKey.Name}({key.ProviderKey.Provider}) peak={key.PeakCalls:0.#}/window night={key.NightShare:0.###} weekend={key.WeekendShare:0.##} tokensPerCall={key.TokensPerCall:0} deploy={key.DeployBursts} start={key.Start:yyyy-MM-ddTHH:mm} stop={key.Stop:yyyy-MM-ddTHH:mm} sources={key.Sources}"));
    foreach (var key in population.ProviderKeys)
        Console.WriteLine(FormattableString.Invariant($"{key.Name} {key.Provider} rotated={key.RotatedAt:yyyy-MM-ddTHH:mm} v1 revoked={key.RevokedAt:yyyy-MM-ddTHH:mm} report={key.Reports}"));
    return 0;
}
var incidentsPath = options.GetValueOrDefault("incidents") ?? throw new ArgumentException("--incidents <file> is required");
var started = Stopwatch.GetTimestamp();
var bench = new Bench(new Population(seed), Incident.Load(incidentsPath), seed) { Trace = options.GetValueOrDefault("trace") };
await bench.RunAsync(Math.Min(days, Population.Days) * 24 * 12);
var report = new Report(bench);
var text = report.Render(Stopwatch.GetElapsedTime(started));
Console.Write(text);
if (options.GetValueOrDefault("out") is { } outPath)
    await File.WriteAllTextAsync(outPath, text);
return report.Passed ? 0 : 1;
