using System.Security.Cryptography;
using FuncKeyOps.Secrets;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.RelayKeys;

/// <summary>
/// The HMAC pepper in Key Vault, read through <see cref="SecretCache"/> so no request waits on the vault.
/// New keys use the latest version; a row is verified with the version it records, so the pepper can rotate
/// (keep old versions enabled while keys made with them live) and two instances that both created the first
/// pepper still verify each other's keys.
/// </summary>
public sealed class RelayKeyPepper(SecretCache cache, ISecretStore store, IOptions<RelayKeysOptions> options)
{
    private const int PepperBytes = 32;
    private readonly string _name = options.Value.PepperSecretName;
    private readonly SemaphoreSlim _creating = new(1, 1);

    public string SecretName => _name;

    /// <summary>The latest version, created on first use when the vault has none.</summary>
    public async Task<SecretValue> GetCurrentAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await cache.GetAsync(_name, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (SecretNotFoundException)
        {
            return await CreateAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public ValueTask<SecretValue> GetAsync(string version, CancellationToken cancellationToken = default) =>
        cache.GetAsync(_name, version, cancellationToken);

    // Serialised within the process so one instance creates one version; across instances a race can still
    // create two, which the version recorded on each row makes harmless.
    private async Task<SecretValue> CreateAsync(CancellationToken cancellationToken)
    {
        await _creating.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            try
            {
                return await cache.GetAsync(_name, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (SecretNotFoundException)
            {
            }
            var value = Convert.ToBase64String(RandomNumberGenerator.GetBytes(PepperBytes));
            var info = await store.SetAsync(_name, value, cancellationToken: cancellationToken).ConfigureAwait(false);
            return new SecretValue(info, value);
        }
        finally
        {
            _creating.Release();
        }
    }

    /// <summary>Base64 HMAC-SHA256 of the secret under the pepper.</summary>
    internal static string Hash(SecretValue pepper, string secret)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Compute(pepper, secret, mac);
        return Convert.ToBase64String(mac);
    }

    /// <summary>Compares in constant time, so response timing does not reveal how much of a guess was right.</summary>
    internal static bool Verify(SecretValue pepper, string secret, string expectedHash)
    {
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (!Convert.TryFromBase64String(expectedHash, expected, out var written) || written != expected.Length)
            return false;
        Span<byte> actual = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Compute(pepper, secret, actual);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    private static void Compute(SecretValue pepper, string secret, Span<byte> destination)
    {
        if (secret.Length > RelayKeyFormat.SecretLength)
            throw new ArgumentException("The secret is longer than a relay key secret.", nameof(secret));
        // Room for a pepper set by hand that is longer than the 32 bytes this class creates.
        Span<byte> key = stackalloc byte[256];
        if (!Convert.TryFromBase64String(pepper.Value, key, out var keyLength) || keyLength < 16)
            throw new InvalidOperationException($"Secret '{pepper.Name}' version '{pepper.Version}' is not a base64 pepper of 16 to 256 bytes.");
        Span<byte> message = stackalloc byte[secret.Length];
        if (System.Text.Encoding.ASCII.GetBytes(secret, message) != secret.Length)
            throw new ArgumentException("The secret is not ASCII.", nameof(secret));
        HMACSHA256.HashData(key[..keyLength], message, destination);
        CryptographicOperations.ZeroMemory(key);
    }
}
