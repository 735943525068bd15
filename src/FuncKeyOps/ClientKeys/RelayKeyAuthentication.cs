namespace FuncKeyOps.ClientKeys;

/// <summary>Why a presented relay key was refused. The relay answers 401 for every kind, with a message per kind.</summary>
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
    private RelayKeyAuthentication(RelayKey? key, RelayKeyFailure? failure)
    {
        Key = key;
        Failure = failure;
    }

    /// <summary>Set when <see cref="Succeeded"/>.</summary>
    public RelayKey? Key { get; }

    /// <summary>Set when not <see cref="Succeeded"/>.</summary>
    public RelayKeyFailure? Failure { get; }

    public bool Succeeded => Key is not null;

    public static RelayKeyAuthentication Authenticated(RelayKey key) => new(key ?? throw new ArgumentNullException(nameof(key)), null);

    public static RelayKeyAuthentication Failed(RelayKeyFailure failure) => new(null, failure);

    /// <summary>A client-facing explanation. Never contains the presented key.</summary>
    public string? Message => Failure switch
    {
        null => null,
        RelayKeyFailure.Missing => "No relay key was presented.",
        RelayKeyFailure.Malformed => "The relay key is not in the fko_<id>_<secret> format.",
        RelayKeyFailure.Unknown => "The relay key is not known.",
        RelayKeyFailure.WrongSecret => "The relay key is not valid.",
        RelayKeyFailure.Suspended => "The relay key is suspended.",
        RelayKeyFailure.Revoked => "The relay key has been revoked.",
        RelayKeyFailure.Expired => "The relay key has expired.",
        _ => "The relay key was refused.",
    };
}
