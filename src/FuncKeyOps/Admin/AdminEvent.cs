namespace FuncKeyOps.Admin;

/// <summary>
/// One admin call that changed something or failed admin authentication. Never a secret: no body, no query,
/// no header value; the caller is named by a fingerprint of the key it presented.
/// </summary>
public sealed record AdminEvent
{
    /// <summary>A version 7 GUID (time-ordered), unique per event; for a tally (<see cref="Count"/>) derived from its source and minute.</summary>
    public required string Id { get; init; }

    /// <summary>When the call arrived.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>
    /// The first 8 hex digits of the SHA-256 of the presented <c>x-fko-admin-key</c>, null when none was sent.
    /// The admin key is one shared secret, so this tells keys apart (the current one, an old one after a rotation,
    /// a guess), not people; an operator computes it with <c>printf %s "$KEY" | sha256sum | cut -c1-8</c>.
    /// </summary>
    public string? Actor { get; init; }

    /// <summary>The client address as the relay resolves it (<c>Relay:TrustedProxies</c> decide whose X-Forwarded-For counts).</summary>
    public string? SourceIp { get; init; }

    public required string Method { get; init; }

    /// <summary>The route template below the admin prefix, such as <c>relay-keys/{id}/suspend</c>.</summary>
    public required string Route { get; init; }

    /// <summary>
    /// The route's values (a relay-key id, a provider-key name), or the id a 201 created. Kept as sent only when
    /// the call found or made it; otherwise <c>sha256:</c> and 8 hex digits, since an unknown id may be a pasted key.
    /// </summary>
    public string? Target { get; init; }

    public required int Status { get; init; }

    /// <summary>The admin error code of the answer (<c>unauthorized</c>, <c>conflict</c>, ...), null on success.</summary>
    public string? ErrorCode { get; init; }

    /// <summary>
    /// Set on a tally: failed authentications on the tenant routes from <see cref="SourceIp"/> in the minute from
    /// <see cref="Time"/>, counted in this one row (method <c>*</c>, status 401) rather than a row each. Null: one call.
    /// </summary>
    public long? Count { get; init; }
}
