using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;

namespace FuncKeyOps.Tests.Rotation.Server;

/// <summary>
/// Holds one table write on its way to storage, as a slow network does: its caller has sent it, and it reaches
/// Azurite only when the test releases it, whatever became of the caller's cancellation token meanwhile (a request on
/// the wire cannot be called back). The caller then learns nothing of the answer (cancelled, or a dropped connection);
/// the test reads it from <see cref="Landed"/>.
/// </summary>
internal sealed class InFlightTableWrite : HttpPipelinePolicy, IDisposable
{
    private static readonly HashSet<string> ContentHeaders = new(StringComparer.OrdinalIgnoreCase) { "Content-Type", "Content-Length", "Content-MD5" };
    private readonly HttpClient _wire = new();
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int> _landed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Func<string, string, bool>? _match;

    /// <summary>A table client on <paramref name="connectionString"/> whose writes pass this policy (after signing, just before the wire).</summary>
    public TableServiceClient Service(string connectionString)
    {
        var options = new TableClientOptions();
        options.AddPolicy(this, HttpPipelinePosition.BeforeTransport);
        return new TableServiceClient(connectionString, options);
    }

    /// <summary>The next write whose path and body <paramref name="match"/> is held.</summary>
    public void Arm(Func<string, string, bool> match) => Volatile.Write(ref _match, match);

    /// <summary>Completes when the write is held.</summary>
    public Task Held => _held.Task;

    public void Release() => _release.TrySetResult();

    /// <summary>The status storage answered the released write with.</summary>
    public Task<int> Landed => _landed.Task;

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (message.Request.Method != RequestMethod.Get && Volatile.Read(ref _match) is { } match && message.Request.Content is { } content)
        {
            using var buffer = new MemoryStream();
            await content.WriteToAsync(buffer, CancellationToken.None);
            var body = buffer.ToArray();
            if (match(message.Request.Uri.Path, Encoding.UTF8.GetString(body)) && Interlocked.CompareExchange(ref _match, null, match) == match)
            {
                _held.TrySetResult();
                await _release.Task;
                _landed.TrySetResult(await SendAsync(message.Request, body));
                message.CancellationToken.ThrowIfCancellationRequested();
                throw new IOException("Test: the connection dropped after the request was sent.");
            }
        }
        await ProcessNextAsync(message, pipeline);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) => ProcessNext(message, pipeline);

    /// <summary>The request as signed, sent now on a connection of its own.</summary>
    private async Task<int> SendAsync(Request request, byte[] body)
    {
        using var wire = new HttpRequestMessage(new HttpMethod(request.Method.Method), request.Uri.ToUri()) { Content = new ByteArrayContent(body) };
        foreach (var header in request.Headers)
        {
            if (ContentHeaders.Contains(header.Name))
                wire.Content.Headers.TryAddWithoutValidation(header.Name, header.Value);
            else
                wire.Headers.TryAddWithoutValidation(header.Name, header.Value);
        }
        using var response = await _wire.SendAsync(wire, CancellationToken.None);
        return (int)response.StatusCode;
    }

    public void Dispose() => _wire.Dispose();
}
