namespace FuncKeyOps.Relay;

/// <summary>
/// Cancels reads from the provider's response body once it has sent nothing for <c>Relay:StreamIdleTimeout</c>.
/// The clock restarts each time a read returns bytes (<see cref="Restart"/>), so a slow but live stream runs as long as
/// it keeps sending, and only silence ends it. One timer per call, moved on with <c>CancelAfter</c>: no allocation per
/// read (a Task.Delay or a fresh linked source per read would allocate on every chunk of every stream).
/// </summary>
/// <remarks>
/// Time spent handing a chunk to the client counts too: Kestrel's minimum response data rate ends a client that stops
/// reading long before a timeout of minutes. The source runs on the host's <see cref="TimeProvider"/>, so tests drive it
/// with a fake clock.
/// </remarks>
internal sealed class UpstreamIdleTimer : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly CancellationTokenRegistration _clientGone;
    private readonly CancellationToken _clientAborted;

    /// <param name="clientAborted">The client's abort also cancels the reads, as it did before there was a timer.</param>
    public UpstreamIdleTimer(TimeSpan timeout, TimeProvider time, CancellationToken clientAborted)
    {
        Timeout = timeout;
        _clientAborted = clientAborted;
        _source = new CancellationTokenSource(timeout, time);
        _clientGone = clientAborted.UnsafeRegister(static source => ((CancellationTokenSource)source!).Cancel(), _source);
    }

    public TimeSpan Timeout { get; }

    /// <summary>The token for every read from the provider.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>True when the reads were cancelled because the provider went quiet, not because the client left.</summary>
    public bool Expired => _source.IsCancellationRequested && !_clientAborted.IsCancellationRequested;

    /// <summary>True when <paramref name="readFailure"/> (from a read with <see cref="Token"/>) means the provider went quiet.</summary>
    /// <remarks>A cancelled read surfaces as an <see cref="OperationCanceledException"/>, or as an <see cref="IOException"/> from a stream that wraps it.</remarks>
    public bool IsStall(Exception readFailure) => readFailure is OperationCanceledException or IOException && Expired;

    /// <summary>A read returned bytes: the provider has <see cref="Timeout"/> again from now.</summary>
    public void Restart() => _source.CancelAfter(Timeout);

    public void Dispose()
    {
        _clientGone.Dispose(); // first: waits out a cancel already running on the source
        _source.Dispose();
    }
}
