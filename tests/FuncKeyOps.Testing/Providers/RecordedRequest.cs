using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Testing.Providers;

/// <summary>One request as the fake received it, captured before any fault or key check so tests see every attempt.</summary>
public sealed class RecordedRequest
{
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal RecordedRequest(string method, string path, string query, IReadOnlyDictionary<string, string> headers, byte[] body, string requestId, DateTimeOffset received)
    {
        Received = received;
        Method = method;
        Path = path;
        Query = query;
        Headers = headers;
        Body = body;
        RequestId = requestId;
    }

    public string Method { get; }

    /// <summary>When the request arrived (the wall clock, as the relay's own waits such as a Retry-After run on it).</summary>
    public DateTimeOffset Received { get; }

    /// <summary>Path only, e.g. <c>/v1/chat/completions</c>.</summary>
    public string Path { get; }

    /// <summary>Query string including the leading <c>?</c>, or empty.</summary>
    public string Query { get; }

    public string PathAndQuery => Path + Query;

    /// <summary>Request headers, names compared case-insensitively; repeated headers joined with ", ".</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    public byte[] Body { get; }

    /// <summary>The id the fake returned in its request-id header, so relay tests can follow it into audit rows.</summary>
    public string RequestId { get; }

    /// <summary>Completes if the client went away (or the fake dropped the connection) before the response finished.</summary>
    public Task Aborted => _aborted.Task;

    public string BodyText => Encoding.UTF8.GetString(Body);

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    /// <summary>The body parsed as JSON; throws if it is not JSON, which in a test is a finding.</summary>
    public JsonElement Json()
    {
        using var document = JsonDocument.Parse(Body);
        return document.RootElement.Clone();
    }

    internal void MarkAborted() => _aborted.TrySetResult();

    internal static async Task<RecordedRequest> CaptureAsync(HttpContext context, string requestId, CancellationToken ct)
    {
        var received = DateTimeOffset.UtcNow;
        var request = context.Request;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Headers)
        {
            headers[name] = values.ToString();
        }

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, ct);
        return new RecordedRequest(request.Method, request.Path.Value ?? "/", request.QueryString.Value ?? "", headers, buffer.ToArray(), requestId, received);
    }
}
