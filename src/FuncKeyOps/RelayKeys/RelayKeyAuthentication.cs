namespace FuncKeyOps.RelayKeys;

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
