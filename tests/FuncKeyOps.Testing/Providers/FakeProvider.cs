using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// A real HTTP server on 127.0.0.1 (ephemeral port) that speaks one LLM provider's wire format,
/// with switches for the failures a relay has to survive. Every request is recorded first,
/// then any queued fault is applied, then the key is checked, then the provider answers.
/// </summary>
/// <remarks>
/// The fakes never log: the host has no logging providers, so no key can reach a log line from here.
/// Error messages never echo a key either, not even masked.
/// </remarks>
public abstract class FakeProvider : IAsyncDisposable
{
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, byte> _acceptedKeys = new(StringComparer.Ordinal);
    // Kept after a key is revoked or deleted: the usage reports still name the key its earlier calls were billed to.
    private readonly ConcurrentDictionary<string, string> _keyIds = new(StringComparer.Ordinal);
    private readonly RequestLog _requests = new();
    private readonly FaultQueue _faults = new();
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _hangRelease = NewSignal();
    private FakeUsage _usage = new();
    private int _streamChunks = 3;
    private StreamPacer? _pacer;
    private WebApplication? _app;
    private Uri? _baseUri;
    private int _disposed;

    private protected FakeProvider(string providerName) => ProviderName = providerName;

    /// <summary><c>http://127.0.0.1:PORT/</c>; provider paths are relative to it.</summary>
    public Uri BaseUri => _baseUri ?? throw new InvalidOperationException("The fake has not been started.");

    /// <summary><c>openai</c>, <c>anthropic</c>, <c>gemini</c> or <c>azure-openai</c>, as in the relay route.</summary>
    public string ProviderName { get; }

    public FakeUsage Usage
    {
        get => Volatile.Read(ref _usage);
        set => Volatile.Write(ref _usage, value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>What the fake bills per key and hour, and how its usage reports behave (lag, failure).</summary>
    public FakeBilling Billing { get; } = new();

    /// <summary>The provider's id of the key (what its admin API made or listed), or null for a key it has no id for.</summary>
    public string? KeyIdOf(string key) => _keyIds.GetValueOrDefault(key);

    /// <summary>Number of text deltas in a streamed answer (and of pieces in a non-streamed one).</summary>
    public int StreamChunks
    {
        get => Volatile.Read(ref _streamChunks);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            Volatile.Write(ref _streamChunks, value);
        }
    }

    /// <summary>When set, streams wait for the pacer before each text delta; read when a request arrives.</summary>
    public StreamPacer? Pacer
    {
        get => Volatile.Read(ref _pacer);
        set => Volatile.Write(ref _pacer, value);
    }

    /// <summary>The text the fake answers with for the current <see cref="StreamChunks"/>.</summary>
    public string ReplyText => string.Concat(ReplyDeltas(StreamChunks));

    /// <summary>Every request received so far, in arrival order, including failed and rejected ones.</summary>
    public IReadOnlyList<RecordedRequest> Requests => _requests.Snapshot();

    /// <summary>Queued faults not yet taken by a request.</summary>
    public int PendingFaults => _faults.Count;

    /// <summary>The text deltas a fake streams: "Hello", " part2", " part3", ...</summary>
    public static IReadOnlyList<string> ReplyDeltas(int chunks) =>
        Enumerable.Range(1, chunks).Select(i => i == 1 ? "Hello" : $" part{i}").ToArray();

    /// <summary>Completes once at least <paramref name="count"/> requests have been received in total.</summary>
    public Task WaitForRequestsAsync(int count, CancellationToken ct = default) => _requests.WaitForCountAsync(count, ct);

    public void AcceptKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        _acceptedKeys[key] = 0;
    }

    /// <summary>Records the provider's id of a key (its admin API made or listed it), which its billed calls are reported under.</summary>
    internal void NameKey(string key, string keyId)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        _keyIds[key] = keyId;
    }

    /// <summary>The key is refused from now on, with the same answer the provider gives a key it never issued.</summary>
    public void RevokeKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        _acceptedKeys.TryRemove(key, out _);
    }

    /// <summary>The next <paramref name="times"/> requests get <paramref name="statusCode"/> with the provider's error body, and Retry-After when given.</summary>
    public void FailNext(int statusCode, int times = 1, TimeSpan? retryAfter = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        _faults.Enqueue(new Fault.Fail(statusCode, retryAfter), times);
    }

    /// <summary>
    /// The next <paramref name="times"/> requests get the provider's 429 about that one request's size (OpenAI's
    /// "Request too large ... tokens per min"), whose rate-limit headers show the key's limits NOT spent: the key is well,
    /// the call alone was refused. (A 429 from <see cref="FailNext"/> is a rate limit: its headers show the limit spent.)
    /// </summary>
    public void FailNextRequestTooLarge(int times = 1) => _faults.Enqueue(new Fault.RequestTooLarge(), times);

    /// <summary>
    /// The next request gets <paramref name="statusCode"/> labelled <c>text/event-stream</c>, its error body as one SSE
    /// <c>error</c> event, as a gateway in front of a provider may answer a stream it refuses.
    /// </summary>
    public void FailNextAsEventStream(int statusCode)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        _faults.Enqueue(new Fault.FailAsEventStream(statusCode), 1);
    }

    /// <summary>
    /// The next request gets <paramref name="statusCode"/> and the first half of the provider's error body, then nothing
    /// more until the client closes the connection (as <see cref="StallNextStreamAfter"/> does to a successful answer).
    /// </summary>
    public void FailNextAndStall(int statusCode)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        _faults.Enqueue(new Fault.FailAndStall(statusCode), 1);
    }

    /// <summary>The next requests get no answer until the client gives up or <see cref="ReleaseHangs"/> is called, after which they are served normally.</summary>
    public void HangNext(int times = 1) => _faults.Enqueue(new Fault.Hang(), times);

    /// <summary>The next requests have their connection aborted without any response.</summary>
    public void DropNext(int times = 1) => _faults.Enqueue(new Fault.Drop(), times);

    /// <summary>
    /// The next requests start streaming normally and have their connection aborted in place of text delta
    /// <paramref name="chunks"/> + 1; a non-streaming request is aborted before any byte.
    /// </summary>
    /// <remarks>
    /// An abort resets the connection, and a reset can discard bytes the client has not read yet.
    /// With a <see cref="Pacer"/> the abort waits for the release of that chunk, so a test can read the
    /// earlier chunks first and then release the drop.
    /// </remarks>
    public void DropNextStreamAfter(int chunks, int times = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chunks);
        _faults.Enqueue(new Fault.DropStreamAfter(chunks), times);
    }

    /// <summary>
    /// The next requests start streaming normally and go quiet in place of text delta <paramref name="chunks"/> + 1: the
    /// connection stays open and nothing more is sent until the client closes it (the request's
    /// <see cref="RecordedRequest.Aborted"/> then completes). A non-streaming request sends the first half of its JSON
    /// body, then goes quiet the same way. With a <see cref="Pacer"/> the stall waits for the release of that chunk.
    /// </summary>
    public void StallNextStreamAfter(int chunks, int times = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chunks);
        _faults.Enqueue(new Fault.StallStreamAfter(chunks), times);
    }

    /// <summary>Lets every currently hanging request go on to be served.</summary>
    public void ReleaseHangs() => Interlocked.Exchange(ref _hangRelease, NewSignal()).TrySetResult();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        ReleaseHangs();
        if (_app is not null)
        {
            using var timeout = new CancellationTokenSource(ShutdownTimeout);
            await _app.StopAsync(timeout.Token);
            await _app.DisposeAsync();
        }

        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }

    private protected static async Task<T> StartFakeAsync<T>(T fake, IEnumerable<string> acceptedKeys)
        where T : FakeProvider
    {
        foreach (var key in acceptedKeys)
        {
            fake.AcceptKey(key);
        }

        try
        {
            await fake.StartServerAsync();
            return fake;
        }
        catch
        {
            await fake.DisposeAsync();
            throw;
        }
    }

    /// <summary>The key the request presents in this provider's auth header, or null when there is none.</summary>
    private protected abstract string? ReadKey(HttpRequest request);

    /// <summary>The provider's answer to a missing, unknown or revoked key.</summary>
    private protected abstract (int StatusCode, JsonNode Body) Unauthorized(FakeExchange exchange, bool keyMissing);

    /// <summary>The provider's error body for a status the test asked for with <see cref="FailNext"/>.</summary>
    private protected abstract JsonNode FailureBody(FakeExchange exchange, int statusCode);

    /// <summary>Answers an authenticated request.</summary>
    private protected abstract Task ServeAsync(FakeExchange exchange);

    /// <summary>The usage report a model call of this path is billed under (<see cref="FakeBilledUsage.Completions"/>, ...), or null when it is not billed.</summary>
    private protected virtual string? BilledKind(HttpRequest request) => null;

    /// <summary>Checks the provider makes before looking at the key (Azure's api-version); true when it answered.</summary>
    private protected virtual Task<bool> RejectBeforeAuthAsync(FakeExchange exchange) => Task.FromResult(false);

    private protected virtual string NewRequestId() => "req_" + FakeIds.Hex(32);

    /// <summary>Headers the provider puts on every response, request id included.</summary>
    private protected virtual void AddResponseHeaders(HttpResponse response, string requestId) =>
        response.Headers["x-request-id"] = requestId;

    private protected virtual void AddRetryAfter(HttpResponse response, TimeSpan retryAfter) =>
        response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);

    /// <summary>The provider's rate-limit headers: with <paramref name="spent"/>, the key's limit is used up (a rate-limit 429); else there is room.</summary>
    /// <remarks>OpenAI's names; Anthropic overrides with its own; Google sends none.</remarks>
    private protected virtual void AddRateLimitHeaders(HttpResponse response, bool spent)
    {
        response.Headers["x-ratelimit-limit-requests"] = "500";
        response.Headers["x-ratelimit-remaining-requests"] = spent ? "0" : "499";
        response.Headers["x-ratelimit-limit-tokens"] = "30000";
        response.Headers["x-ratelimit-remaining-tokens"] = spent ? "0" : "29990";
    }

    /// <summary>The provider's 429 body for a request too large for the key's per-minute token limit.</summary>
    private protected virtual JsonNode RequestTooLargeBody(FakeExchange exchange) => FailureBody(exchange, 429);

    private async Task StartServerAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = GetType().Name });
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = ShutdownTimeout);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(options =>
        {
            options.AddServerHeader = false;
            options.Listen(IPAddress.Loopback, 0);
        });

        _app = builder.Build();
        _app.Run(HandleAsync);
        await _app.StartAsync(_stopping.Token);

        var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        _baseUri = new Uri(address.TrimEnd('/') + "/");
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        var ct = linked.Token;
        var requestId = NewRequestId();

        // Taken before the request is recorded: a test that saw the request and then calls ReleaseHangs must free it.
        var hangRelease = Volatile.Read(ref _hangRelease).Task;
        try
        {
            var recorded = await RecordedRequest.CaptureAsync(context, requestId, ct);
            using var abortWatch = context.RequestAborted.Register(recorded.MarkAborted);
            _requests.Add(recorded);

            var exchange = new FakeExchange(context, recorded, ct, Usage, StreamChunks, Pacer);
            AddResponseHeaders(context.Response, requestId);
            if (!await ApplyFaultAsync(exchange, hangRelease))
            {
                return;
            }

            if (await RejectBeforeAuthAsync(exchange))
            {
                return;
            }

            var key = ReadKey(context.Request);
            if (string.IsNullOrEmpty(key) || !_acceptedKeys.ContainsKey(key))
            {
                var (status, body) = Unauthorized(exchange, string.IsNullOrEmpty(key));
                await exchange.WriteJsonAsync(status, body);
                return;
            }

            try
            {
                await ServeAsync(exchange);
            }
            finally
            {
                Bill(exchange, key);
            }
        }
        catch (OperationCanceledException)
        {
            // The client gave up, the fake is stopping, or a fault cut the connection on purpose.
        }
        catch (IOException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The connection went away mid-write.
        }
    }

    /// <summary>Applies the next queued fault; false when the request must not be served further.</summary>
    private async Task<bool> ApplyFaultAsync(FakeExchange exchange, Task hangRelease)
    {
        switch (_faults.TryTake())
        {
            case Fault.Fail fail:
                if (fail.RetryAfter is { } retryAfter)
                {
                    AddRetryAfter(exchange.Context.Response, retryAfter);
                }

                if (fail.StatusCode == 429)
                {
                    AddRateLimitHeaders(exchange.Context.Response, spent: true);
                }

                await exchange.WriteJsonAsync(fail.StatusCode, FailureBody(exchange, fail.StatusCode));
                return false;

            case Fault.RequestTooLarge:
                AddRateLimitHeaders(exchange.Context.Response, spent: false);
                await exchange.WriteJsonAsync(429, RequestTooLargeBody(exchange));
                return false;

            case Fault.FailAsEventStream fail:
                exchange.Context.Response.StatusCode = fail.StatusCode;
                exchange.Context.Response.ContentType = "text/event-stream";
                await exchange.Context.Response.WriteAsync($"event: error\ndata: {FailureBody(exchange, fail.StatusCode).ToJsonString()}\n\n", exchange.Aborted);
                return false;

            case Fault.FailAndStall fail:
                await exchange.WriteHalfThenStallAsync(fail.StatusCode, FailureBody(exchange, fail.StatusCode).ToJsonString());
                return false;

            case Fault.Hang:
                // Throws when the client gives up or the fake stops; otherwise the request carries on once released.
                await hangRelease.WaitAsync(exchange.Aborted);
                return true;

            case Fault.Drop:
                // Kestrel may signal RequestAborted after this handler has returned, so record the abort here.
                exchange.Recorded.MarkAborted();
                exchange.Context.Abort();
                return false;

            case Fault.DropStreamAfter drop:
                exchange.DropAfterChunks = drop.Chunks;
                return true;

            case Fault.StallStreamAfter stall:
                exchange.StallAfterChunks = stall.Chunks;
                return true;

            default:
                return true;
        }
    }

    /// <summary>
    /// A successful answer the fake began to send is billed, a stream cut midway included (the provider generated it);
    /// a refused or failed call is not. Embeddings have no output tokens.
    /// </summary>
    private void Bill(FakeExchange exchange, string key)
    {
        var response = exchange.Context.Response;
        if (BilledKind(exchange.Request) is not { } kind || !response.HasStarted || response.StatusCode is < 200 or >= 300)
            return;
        var model = exchange.ReadJsonObject()?["model"] is JsonValue value && value.TryGetValue(out string? name) ? name : null;
        Billing.Record(KeyIdOf(key), kind, model, exchange.Usage.InputTokens, kind == FakeBilledUsage.Embeddings ? 0 : exchange.Usage.OutputTokens);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
