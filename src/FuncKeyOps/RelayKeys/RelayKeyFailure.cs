namespace FuncKeyOps.RelayKeys;

/// <summary>
/// Why a presented relay key was refused. The relay answers 401 for every kind; a malformed key, an unknown id and a
/// wrong secret share one message, so the answer does not tell which ids exist.
/// </summary>
public enum RelayKeyFailure
{
    /// <summary>No key was presented.</summary>
    Missing,
    /// <summary>Not shaped like <c>fko_&lt;keyId&gt;_&lt;secret&gt;</c>.</summary>
    Malformed,
    /// <summary>No key has this id.</summary>
    Unknown,
    /// <summary>The id exists but the secret does not match.</summary>
    WrongSecret,
    Suspended,
    Revoked,
    Expired,
}
