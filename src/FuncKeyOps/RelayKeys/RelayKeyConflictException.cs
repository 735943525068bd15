namespace FuncKeyOps.RelayKeys;

/// <summary>A status change the key's current status does not allow, such as resuming a revoked key (revocation is final).</summary>
public sealed class RelayKeyConflictException(string id, RelayKeyStatus current, string attempted)
    : Exception($"Relay key '{id}' is {RelayKeyEntity.StatusText(current)}; it cannot be {attempted}.")
{
    public string Id { get; } = id;
    public RelayKeyStatus Current { get; } = current;
}
