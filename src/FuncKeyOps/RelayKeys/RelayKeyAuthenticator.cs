using FuncKeyOps.Secrets;

namespace FuncKeyOps.RelayKeys;

/// <summary>
/// The relay's check of a presented key. No storage or vault call on the usual request: rows come from
/// <see cref="RelayKeyCache"/> and the pepper from the secret cache.
/// </summary>
public sealed class RelayKeyAuthenticator
{
    // A random pepper and hash of this process, never a key's: only there to be computed with.
    private static readonly SecretValue StandInPepper = new(
        new SecretVersionInfo("stand-in", "stand-in", true, new Dictionary<string, string>(), null, null),
        Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
    private static readonly string StandInHash = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private readonly RelayKeyCache _rows;
    private readonly RelayKeyPepper _pepper;

    internal RelayKeyAuthenticator(RelayKeyCache rows, RelayKeyPepper pepper)
    {
        _rows = rows;
        _pepper = pepper;
    }

    /// <exception cref="RelayKeyUnavailableException">Storage or the vault failed and nothing usable was cached (503, not 401).</exception>
    public async ValueTask<RelayKeyAuthentication> AuthenticateAsync(string? presented, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(presented))
            return RelayKeyAuthentication.Failed(RelayKeyFailure.Missing);
        if (!RelayKeyFormat.TryParse(presented, out var id, out var secret))
            return RelayKeyAuthentication.Failed(RelayKeyFailure.Malformed);

        var row = await _rows.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            // The same HMAC and comparison a known id costs, so timing does not tell unknown ids from wrong secrets.
            RelayKeyPepper.Verify(StandInPepper, secret, StandInHash);
            return RelayKeyAuthentication.Failed(RelayKeyFailure.Unknown);
        }

        SecretValue pepper;
        try
        {
            pepper = await _pepper.GetAsync(row.PepperVersion, cancellationToken).ConfigureAwait(false);
        }
        catch (SecretStoreException e)
        {
            throw new RelayKeyUnavailableException($"The pepper version of relay key '{id}' could not be read from Key Vault.", e);
        }
        var key = row.Key;
        if (!RelayKeyPepper.Verify(pepper, secret, row.Hash))
            return RelayKeyAuthentication.Failed(RelayKeyFailure.WrongSecret, key);

        // Status is told only to a caller who holds the secret.
        if (key.Status == RelayKeyStatus.Revoked)
            return RelayKeyAuthentication.Failed(RelayKeyFailure.Revoked, key);
        if (key.Status == RelayKeyStatus.Suspended)
            return RelayKeyAuthentication.Failed(RelayKeyFailure.Suspended, key);
        if (key.ExpiresAt <= now)
            return RelayKeyAuthentication.Failed(RelayKeyFailure.Expired, key);
        return RelayKeyAuthentication.Authenticated(key);
    }
}
