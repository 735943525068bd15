using System.Buffers;
using FuncKeyOps.Providers;

namespace FuncKeyOps.Relay;

/// <summary>
/// Copies the provider's response body to the client as it arrives (each read written and flushed at once, no
/// buffering) while a usage reader looks at it: SSE event by event, JSON once complete if it is small enough.
/// When the plan asks to drop the usage-only chunk, SSE is forwarded at event boundaries so an event can be held back.
/// A provider that sends nothing for the idle timeout ends the copy with <see cref="UpstreamStalledException"/>; its
/// read is cancelled, which closes an HTTP/1.1 connection (resets an HTTP/2 stream) instead of leaving it to the pool.
/// </summary>
public static class ResponseStreamer
{
    private const int ReadBufferSize = 16 * 1024;

    // An SSE event larger than this is not parsed: the stream is passed through unchanged from there on.
    private const int MaxEventBytes = 1024 * 1024;

    /// <param name="idleTimeout">Longest wait for the provider's next bytes (<c>Relay:StreamIdleTimeout</c>).</param>
    /// <param name="cancellationToken">The client's abort.</param>
    public static Task<long> CopyAsync(Stream upstream, Stream client, bool isEventStream, bool filterEvents, IUsageReader usage, TimeSpan idleTimeout, TimeProvider time, CancellationToken cancellationToken) =>
        CopyAsync(upstream, client, isEventStream, filterEvents, usage, idleTimeout, time, progress: null, cancellationToken);

    /// <param name="progress">Told the bytes and events relayed as they go, so a cut stream's estimate has them (<see cref="TokenEstimate"/>).</param>
    internal static async Task<long> CopyAsync(Stream upstream, Stream client, bool isEventStream, bool filterEvents, IUsageReader usage, TimeSpan idleTimeout, TimeProvider time,
        RelayCall? progress, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ReadBufferSize);
        using var idle = new UpstreamIdleTimer(idleTimeout, time, cancellationToken);
        try
        {
            if (isEventStream)
                return await CopyEventStreamAsync(upstream, client, buffer, filterEvents, usage, idle, progress, cancellationToken).ConfigureAwait(false);
            return await CopyBodyAsync(upstream, client, buffer, usage, idle, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (idle.IsStall(e))
        {
            throw new UpstreamStalledException(idle.Timeout);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<long> CopyBodyAsync(Stream upstream, Stream client, byte[] buffer, IUsageReader usage, UpstreamIdleTimer idle, RelayCall? progress, CancellationToken cancellationToken)
    {
        long total = 0;
        var tee = new ArrayBufferWriter<byte>();
        var teeing = true;
        int read;
        while ((read = await upstream.ReadAsync(buffer, idle.Token).ConfigureAwait(false)) > 0)
        {
            idle.Restart();
            await client.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            total += read;
            if (progress is not null)
                progress.ResponseBytes = total;
            if (teeing && total <= IUsageReader.MaxJsonBodyBytes)
                tee.Write(buffer.AsSpan(0, read));
            else
                teeing = false;
        }
        if (teeing && tee.WrittenCount > 0)
            usage.OnJsonBody(tee.WrittenSpan);
        return total;
    }

    private static async Task<long> CopyEventStreamAsync(Stream upstream, Stream client, byte[] buffer, bool filterEvents, IUsageReader usage, UpstreamIdleTimer idle, RelayCall? progress, CancellationToken cancellationToken)
    {
        long total = 0;
        var splitter = new SseEventSplitter(MaxEventBytes);
        var held = new ArrayBufferWriter<byte>();
        int read;
        while ((read = await upstream.ReadAsync(buffer, idle.Token).ConfigureAwait(false)) > 0)
        {
            idle.Restart();
            total += read;
            var chunk = buffer.AsMemory(0, read);
            if (!filterEvents || splitter.Overflowed)
            {
                await client.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
                await client.FlushAsync(cancellationToken).ConfigureAwait(false);
                splitter.Feed(chunk.Span, usage, keptEvents: null);
                Report(progress, total, splitter);
                continue;
            }
            held.ResetWrittenCount();
            splitter.Feed(chunk.Span, usage, held);
            Report(progress, total, splitter);
            if (held.WrittenCount > 0)
            {
                await client.WriteAsync(held.WrittenMemory, cancellationToken).ConfigureAwait(false);
                await client.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        // A stream that ended mid-event: pass the remainder through as it came.
        var rest = splitter.TakeRemainder();
        if (filterEvents && !splitter.Overflowed && rest.Length > 0)
            await client.WriteAsync(rest, cancellationToken).ConfigureAwait(false);
        return total;
    }

    // After each read: what the provider sent so far, for the estimate of a stream cut before its usage.
    private static void Report(RelayCall? progress, long total, SseEventSplitter splitter)
    {
        if (progress is null)
            return;
        progress.ResponseBytes = total;
        progress.ResponseEvents = splitter.Events;
    }
}
