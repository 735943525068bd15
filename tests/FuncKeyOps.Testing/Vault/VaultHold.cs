namespace FuncKeyOps.Testing.Vault;

/// <summary>Requests held by <see cref="VaultFaults.Hold"/>; disposing releases them too.</summary>
public sealed class VaultHold : IDisposable
{
    private readonly VaultFaults _faults;
    private readonly TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _held;

    internal VaultHold(VaultFaults faults) => _faults = faults;

    /// <summary>Completes when the first answer is being held.</summary>
    public Task Arrived => _arrived.Task;

    /// <summary>How many answers this hold has held so far.</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>Lets every held answer (and later ones) through.</summary>
    public void Release()
    {
        _faults.Released(this);
        _released.TrySetResult();
    }

    public void Dispose() => Release();

    internal Task WaitAsync(CancellationToken aborted)
    {
        Interlocked.Increment(ref _held);
        _arrived.TrySetResult();
        return _released.Task.WaitAsync(aborted);
    }
}
