namespace FuncKeyOps.ClientKeys;

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

/// <summary>The outcome of <see cref="RelayKeyAuthenticator.AuthenticateAsync"/>: the key, or why there is none.</summary>
public sealed record RelayKeyAuthentication
{
    private RelayKeyAuthentication(RelayKey? key, RelayKeyFailure? failure, RelayKey? claimed)
    {
        Key = key;
        Failure = failure;
        Claimed = claimed;
    }

    /// <summary>Set when <see cref="Succeeded"/>.</summary>
    public RelayKey? Key { get; }

    /// <summary>
    /// On a failure, the existing key whose id was presented (wrong secret, suspended, revoked, expired), so the
    /// audit row can name the key someone is guessing at. Never authorises anything. Null for an unknown id.
    /// </summary>
    public RelayKey? Claimed { get; }

    /// <summary>Set when not <see cref="Succeeded"/>.</summary>
    public RelayKeyFailure? Failure { get; }

    public bool Succeeded => Key is not null;

    public static RelayKeyAuthentication Authenticated(RelayKey key) => new(key ?? throw new ArgumentNullException(nameof(key)), null, null);

    public static RelayKeyAuthentication Failed(RelayKeyFailure failure, RelayKey? claimed = null) => new(null, failure, claimed);

    /// <summary>A client-facing explanation. Never contains the presented key.</summary>
    public string? Message => Failure switch
    {
        null => null,
        RelayKeyFailure.Missing => "No relay key was presented.",
        RelayKeyFailure.Malformed or RelayKeyFailure.Unknown or RelayKeyFailure.WrongSecret =>
            "The relay key is not valid (relay keys look like fko_<id>_<secret>).",
        RelayKeyFailure.Suspended => "The relay key is suspended.",
        RelayKeyFailure.Revoked => "The relay key has been revoked.",
        RelayKeyFailure.Expired => "The relay key has expired.",
        _ => "The relay key was refused.",
    };
}
