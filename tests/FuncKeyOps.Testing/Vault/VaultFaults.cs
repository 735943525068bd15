namespace FuncKeyOps.Testing.Vault;

/// <summary>
/// Switches that make the test vault slow or failing the way a real one can be, for tests of what callers do
/// meanwhile. They act on authenticated requests only, after the challenge round trip.
/// </summary>
public sealed class VaultFaults
{
    private volatile VaultHold? _hold;
    private int _failStatus;

    /// <summary>From now on every request is answered with this status (e.g. 503) until <see cref="Heal"/>.</summary>
    public void FailWith(int status) => Volatile.Write(ref _failStatus, status);

    /// <summary>Ends <see cref="FailWith"/>.</summary>
    public void Heal() => Volatile.Write(ref _failStatus, 0);

    /// <summary>
    /// From now on requests are served as they come (the data is read at once) but their answers wait, as over a
    /// slow network, until the returned hold is released; it tells when the first answer is held.
    /// </summary>
    public VaultHold Hold()
    {
        var hold = new VaultHold(this);
        _hold = hold;
        return hold;
    }

    internal void Released(VaultHold hold) => Interlocked.CompareExchange(ref _hold, null, hold);

    internal int FailStatus => Volatile.Read(ref _failStatus);

    internal VaultHold? CurrentHold => _hold;
}
