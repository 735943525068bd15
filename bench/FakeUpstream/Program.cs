using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

// A fast stand-in for the OpenAI chat completions API, for load tests: no request log, no allocation beyond what
// Kestrel needs, canned bodies. POST /v1/chat/completions answers JSON with usage, or SSE when "stream": true
// (N content chunks, a delay between them, a usage-only chunk when stream_options.include_usage is true, [DONE]).
// GET /v1/models answers a one-model list: the relay's activation validates the key with it.
//   FakeUpstream --urls http://127.0.0.1:PORT --key KEY [--chunks 5] [--chunk-delay-ms 20]
// Per request, headers x-fake-chunks and x-fake-chunk-delay-ms override the defaults.
var options = FakeOptions.Parse(args);
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
var app = builder.Build();

var expectedAuth = "Bearer " + options.Key;
var completion = Encoding.UTF8.GetBytes(Canned.Completion);

app.MapGet("/health", () => Results.Text("ok"));
app.MapGet("/v1/models", (HttpContext context) =>
    string.Equals(context.Request.Headers.Authorization.ToString(), expectedAuth, StringComparison.Ordinal)
        ? Results.Text(Canned.Models, "application/json")
        : Results.Text(Canned.Unauthorized, "application/json", statusCode: 401));
app.MapPost("/v1/chat/completions", async (HttpContext context) =>
{
    var request = context.Request;
    var response = context.Response;
    if (!string.Equals(request.Headers.Authorization.ToString(), expectedAuth, StringComparison.Ordinal))
    {
        response.StatusCode = 401;
        response.ContentType = "application/json";
        await response.WriteAsync(Canned.Unauthorized, context.RequestAborted);
        return;
    }

    var body = await ReadBodyAsync(request, context.RequestAborted);
    var (stream, includeUsage) = Canned.ReadFlags(body);
    if (!stream)
    {
        response.ContentType = "application/json";
        response.ContentLength = completion.Length;
        await response.Body.WriteAsync(completion, context.RequestAborted);
        return;
    }

    var chunks = HeaderInt(request, "x-fake-chunks") ?? options.Chunks;
    var delay = TimeSpan.FromMilliseconds(HeaderInt(request, "x-fake-chunk-delay-ms") ?? options.ChunkDelayMs);
    response.ContentType = "text/event-stream";
    response.Headers.CacheControl = "no-cache";
    context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    await response.StartAsync(context.RequestAborted);
    for (var i = 0; i < chunks; i++)
    {
        if (i > 0)
            await Task.Delay(delay, context.RequestAborted); // about 1 ms over on Linux: the same for every target
        await response.Body.WriteAsync(Canned.Chunk(i, last: i == chunks - 1), context.RequestAborted);
        await response.Body.FlushAsync(context.RequestAborted);
    }
    if (includeUsage)
        await response.Body.WriteAsync(Canned.UsageChunk(chunks), context.RequestAborted);
    await response.Body.WriteAsync(Canned.Done, context.RequestAborted);
    await response.Body.FlushAsync(context.RequestAborted);
});

await app.RunAsync();
return 0;

static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
{
    using var buffer = new MemoryStream(request.ContentLength is { } length and < 1 << 20 ? (int)length : 1024);
    await request.Body.CopyToAsync(buffer, cancellationToken);
    return buffer.ToArray();
}

static int? HeaderInt(HttpRequest request, string name) =>
    int.TryParse(request.Headers[name].ToString(), out var value) && value >= 0 ? value : null;

internal sealed record FakeOptions(string Key, int Chunks, int ChunkDelayMs)
{
    public static FakeOptions Parse(string[] args)
    {
        string? key = Environment.GetEnvironmentVariable("FAKE_UPSTREAM_KEY");
        int chunks = 5, delay = 20;
        for (var i = 0; i + 1 < args.Length; i++)
        {
            switch (args[i])
            {
                case "--key": key = args[++i]; break;
                case "--chunks": chunks = int.Parse(args[++i]); break;
                case "--chunk-delay-ms": delay = int.Parse(args[++i]); break;
            }
        }
        if (string.IsNullOrEmpty(key))
            throw new ArgumentException("--key (or FAKE_UPSTREAM_KEY) is required");
        return new FakeOptions(key, chunks, delay);
    }
}

internal static class Canned
{
    public const string Completion =
        """{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the bench upstream."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}}""";

    public const string Models = """{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"}]}""";

    public const string Unauthorized =
        """{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""";

    public static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    private static readonly byte[][] Chunks = Enumerable.Range(0, 64).Select(i => Encoding.UTF8.GetBytes(
        "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok" + i + " \"},\"logprobs\":null,\"finish_reason\":null}]}\n\n")).ToArray();

    private static readonly byte[] LastChunk = Encoding.UTF8.GetBytes(
        "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"end\"},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n");

    public static byte[] Chunk(int index, bool last) => last ? LastChunk : Chunks[index % Chunks.Length];

    public static byte[] UsageChunk(int chunks) => Encoding.UTF8.GetBytes(
        "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":" + chunks + ",\"total_tokens\":" + (12 + chunks) + "}}\n\n");

    /// <summary>The top-level <c>stream</c> and <c>stream_options.include_usage</c> flags of a chat request.</summary>
    public static (bool Stream, bool IncludeUsage) ReadFlags(ReadOnlySpan<byte> body)
    {
        bool stream = false, includeUsage = false;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return (false, false);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("stream"))
                {
                    reader.Read();
                    stream = reader.TokenType == JsonTokenType.True;
                }
                else if (reader.ValueTextEquals("stream_options"))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        reader.Skip();
                        continue;
                    }
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var isUsage = reader.ValueTextEquals("include_usage");
                        reader.Read();
                        if (isUsage)
                            includeUsage = reader.TokenType == JsonTokenType.True;
                        else
                            reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
        }
        return (stream, includeUsage);
    }
}
