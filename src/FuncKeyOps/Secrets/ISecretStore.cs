namespace FuncKeyOps.Secrets;

/// <summary>Secrets with versions and tags: Key Vault in every deployment.</summary>
public interface ISecretStore
{
    /// <summary>The latest version, or the given one.</summary>
    Task<SecretValue> GetAsync(string name, string? version = null, CancellationToken cancellationToken = default);

    /// <summary>Adds a new version; it becomes the latest.</summary>
    Task<SecretVersionInfo> SetAsync(string name, string value, IReadOnlyDictionary<string, string>? tags = null, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<SecretVersionInfo>> ListVersionsAsync(string name, CancellationToken cancellationToken = default);

    Task<SecretVersionInfo> UpdateAsync(string name, string version, SecretVersionUpdate update, CancellationToken cancellationToken = default);

    /// <summary>Deletes every version (soft delete where the vault has it).</summary>
    Task DeleteAsync(string name, CancellationToken cancellationToken = default);
}
