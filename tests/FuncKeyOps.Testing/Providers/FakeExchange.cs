using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// One request/response as a fake handler sees it. Settings the test may change at any time
/// (usage, chunk count, pacer) are read once here so a single response is internally consistent.
/// </summary>
internal sealed class FakeExchange
{
    internal FakeExchange(HttpContext context, RecordedRequest recorded, CancellationToken aborted, FakeUsage usage, int chunks, StreamPacer? pacer)
    {
        Context = context;
        Recorded = recorded;
        Aborted = aborted;
        Usage = usage;
        Deltas = FakeProvider.ReplyDeltas(chunks);
        Pacer = pacer;
    }

    public HttpContext Context { get; }

    public HttpRequest Request => Context.Request;

    public RecordedRequest Recorded { get; }

    /// <summary>Fires when the client goes away or the fake is shutting down.</summary>
    public CancellationToken Aborted { get; }

    public FakeUsage Usage { get; }

    public IReadOnlyList<string> Deltas { get; }

    public string ReplyText => string.Concat(Deltas);

    public StreamPacer? Pacer { get; }

    public int? DropAfterChunks { get; set; }

    public int? StallAfterChunks { get; set; }

    /// <summary>The request body as a JSON object, or null when it is missing or not an object.</summary>
    public JsonObject? ReadJsonObject()
    {
        try
        {
            return Recorded.Body.Length == 0 ? null : JsonNode.Parse(Recorded.Body) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public async Task WriteJsonAsync(int statusCode, JsonNode body)
    {
        // A mid-stream drop queued for a request that turns out not to stream cuts it before any byte.
        if (DropAfterChunks is not null && statusCode is >= 200 and < 300)
        {
            Recorded.MarkAborted();
            Context.Abort();
            throw new OperationCanceledException("Response dropped on purpose by the fake.");
        }

        if (StallAfterChunks is not null && statusCode is >= 200 and < 300)
        {
            await WriteHalfThenStallAsync(statusCode, body.ToJsonString());
        }

        Context.Response.StatusCode = statusCode;
        Context.Response.ContentType = "application/json";
        await Context.Response.WriteAsync(body.ToJsonString(), Aborted);
    }

    /// <summary>A JSON body that stops halfway: the client has bytes, but never the whole document. Throws once the client leaves.</summary>
    public async Task WriteHalfThenStallAsync(int statusCode, string json)
    {
        Context.Response.StatusCode = statusCode;
        Context.Response.ContentType = "application/json";
        await Context.Response.WriteAsync(json[..(json.Length / 2)], Aborted);
        await Context.Response.Body.FlushAsync(Aborted);
        await StallAsync();
    }

    /// <summary>Sends nothing more and keeps the connection open until the client closes it or the fake stops; then throws.</summary>
    public Task StallAsync() => Task.Delay(Timeout.Infinite, Aborted);

    public async Task<StreamingResponse> StartStreamAsync(string contentType, string newline = "\n")
    {
        var response = Context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = contentType;
        response.Headers.CacheControl = "no-cache";
        Context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        // Headers go out now, as the real APIs do, so the client sees the stream open before the first chunk
        // (StartAsync alone only commits them; the flush puts them on the wire).
        await response.StartAsync(Aborted);
        await response.Body.FlushAsync(Aborted);
        return new StreamingResponse(this, newline);
    }
}
