using Azure;
using Azure.Security.KeyVault.Secrets;
using FuncKeyOps.Logging;

namespace FuncKeyOps.Secrets;

/// <summary><see cref="ISecretStore"/> over the real <see cref="SecretClient"/>. Every value it sees is handed to the redactor.</summary>
public sealed class KeyVaultSecretStore(SecretClient client, SecretRedactor redactor) : ISecretStore
{
    public async Task<SecretValue> GetAsync(string name, string? version = null, CancellationToken cancellationToken = default)
    {
        var secret = await Call(name, version, "get", () => client.GetSecretAsync(name, version, cancellationToken)).ConfigureAwait(false);
        redactor.Track(secret.Value);
        return new SecretValue(ToInfo(secret.Properties), secret.Value);
    }

    public async Task<SecretVersionInfo> SetAsync(string name, string value, IReadOnlyDictionary<string, string>? tags = null, CancellationToken cancellationToken = default)
    {
        redactor.Track(value);
        var secret = new KeyVaultSecret(name, value);
        foreach (var (key, tag) in tags ?? new Dictionary<string, string>())
            secret.Properties.Tags[key] = tag;
        var stored = await Call(name, null, "set", () => client.SetSecretAsync(secret, cancellationToken)).ConfigureAwait(false);
        return ToInfo(stored.Properties);
    }

    public async Task<IReadOnlyList<SecretVersionInfo>> ListVersionsAsync(string name, CancellationToken cancellationToken = default)
    {
        var versions = new List<SecretVersionInfo>();
        try
        {
            await foreach (var properties in client.GetPropertiesOfSecretVersionsAsync(name, cancellationToken).ConfigureAwait(false))
                versions.Add(ToInfo(properties));
        }
        catch (Exception e) when (IsVaultFailure(e))
        {
            throw Translate(e, name, null, "list versions");
        }
        return versions.OrderBy(v => v.CreatedOn).ToList();
    }

    public async Task<SecretVersionInfo> UpdateAsync(string name, string version, SecretVersionUpdate update, CancellationToken cancellationToken = default)
    {
        // Read-modify-write of the properties: PATCH replaces the whole tag set.
        var current = await Call(name, version, "get", () => client.GetSecretAsync(name, version, cancellationToken)).ConfigureAwait(false);
        redactor.Track(current.Value);
        var properties = current.Properties;
        if (update.Enabled is { } enabled)
            properties.Enabled = enabled;
        if (update.ExpiresOn is { } expires)
            properties.ExpiresOn = expires;
        foreach (var (key, tag) in update.Tags ?? new Dictionary<string, string>())
            properties.Tags[key] = tag;
        var updated = await Call(name, version, "update", () => client.UpdateSecretPropertiesAsync(properties, cancellationToken)).ConfigureAwait(false);
        return ToInfo(updated);
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var operation = await client.StartDeleteSecretAsync(name, cancellationToken).ConfigureAwait(false);
            await operation.WaitForCompletionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsVaultFailure(e))
        {
            throw Translate(e, name, null, "delete");
        }
    }

    internal static SecretVersionInfo ToInfo(SecretProperties p) =>
        new(p.Name, p.Version, p.Enabled ?? true, new Dictionary<string, string>(p.Tags), p.CreatedOn, p.ExpiresOn) { UpdatedOn = p.UpdatedOn };

    private static async Task<T> Call<T>(string name, string? version, string operation, Func<Task<Response<T>>> call)
    {
        try
        {
            return (await call().ConfigureAwait(false)).Value;
        }
        catch (Exception e) when (IsVaultFailure(e))
        {
            throw Translate(e, name, version, operation);
        }
    }

    // The SDK reports exhausted retries as an AggregateException of the attempts' failures.
    private static bool IsVaultFailure(Exception e) =>
        e is RequestFailedException or HttpRequestException
        || (e is AggregateException a && a.InnerExceptions.All(IsVaultFailure));

    private static SecretStoreException Translate(Exception e, string name, string? version, string operation) => e switch
    {
        AggregateException a => Translate(a.InnerExceptions[^1], name, version, operation),
        RequestFailedException { Status: 404 } => new SecretNotFoundException(name, version, e),
        RequestFailedException r when r.Status != 0 =>
            new SecretStoreException($"Key Vault {operation} of secret '{name}' failed: {r.Status} {r.ErrorCode}.", r.Status, e),
        _ => new SecretStoreException($"Key Vault {operation} of secret '{name}' failed: vault unreachable ({e.GetBaseException().Message}).", null, e),
    };
}
