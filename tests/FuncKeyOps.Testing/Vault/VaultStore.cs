using System.Security.Cryptography;

namespace FuncKeyOps.Testing.Vault;

/// <summary>
/// The vault's in-memory secrets. One lock guards everything: the vault serves a handful of test
/// requests, so simple and obviously correct beats fine-grained. Callers only ever get immutable snapshots.
/// </summary>
internal sealed class VaultStore(TimeProvider time)
{
    // Matches the real service's default soft-delete retention.
    public const int RecoverableDays = 90;

    private readonly Lock _gate = new();

    // Key Vault object names are case-insensitive.
    private readonly Dictionary<string, List<VaultSecretVersion>> _live = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, (List<VaultSecretVersion> Versions, VaultDeletedSecret Deleted)> _deleted =
        new(StringComparer.OrdinalIgnoreCase);

    public VaultSecretVersion Set(string name, VaultSecretWrite write)
    {
        SecretName.Validate(name);
        var now = Now();
        lock (_gate)
        {
            if (_deleted.ContainsKey(name))
            {
                throw VaultException.DeletedButRecoverable(name);
            }

            if (!_live.TryGetValue(name, out var versions))
            {
                versions = [];
                _live[name] = versions;
            }

            var created = new VaultSecretVersion(
                Name: versions.Count > 0 ? versions[0].Name : name,
                Version: NewVersionId(),
                Value: write.Value,
                ContentType: write.ContentType,
                Tags: Copy(write.Tags),
                Enabled: write.Enabled ?? true,
                NotBefore: write.NotBefore,
                ExpiresOn: write.ExpiresOn,
                Created: now,
                Updated: now);
            versions.Add(created);
            return created;
        }
    }

    /// <summary>Reads a version (the latest when <paramref name="version"/> is null) for a value-returning call.</summary>
    public VaultSecretVersion Get(string name, string? version)
    {
        var found = GetProperties(name, version);
        if (!found.Enabled)
        {
            throw VaultException.Disabled("get");
        }

        return found;
    }

    /// <summary>Reads a version whether or not it is enabled, for calls that do not return the value.</summary>
    public VaultSecretVersion GetProperties(string name, string? version)
    {
        SecretName.Validate(name);
        lock (_gate)
        {
            var versions = LiveVersions(name, version);
            return Find(versions, name, version);
        }
    }

    public IReadOnlyList<VaultSecretVersion> Versions(string name)
    {
        SecretName.Validate(name);
        lock (_gate)
        {
            return _live.TryGetValue(name, out var versions) ? [.. versions] : [];
        }
    }

    public IReadOnlyList<VaultSecretVersion> LatestOfEach()
    {
        lock (_gate)
        {
            return [.. _live.Values.Select(v => v[^1]).OrderBy(v => v.Name, StringComparer.OrdinalIgnoreCase)];
        }
    }

    public VaultSecretVersion Update(string name, string? version, VaultSecretPatch patch)
    {
        SecretName.Validate(name);
        var now = Now();
        lock (_gate)
        {
            var versions = LiveVersions(name, version);
            var current = Find(versions, name, version);
            var updated = current with
            {
                ContentType = patch.ContentType ?? current.ContentType,
                Tags = patch.Tags is null ? current.Tags : Copy(patch.Tags),
                Enabled = patch.Enabled ?? current.Enabled,
                NotBefore = patch.NotBefore ?? current.NotBefore,
                ExpiresOn = patch.ExpiresOn ?? current.ExpiresOn,
                Updated = now,
            };
            versions[versions.IndexOf(current)] = updated;
            return updated;
        }
    }

    public VaultDeletedSecret Delete(string name)
    {
        SecretName.Validate(name);
        var now = Now();
        lock (_gate)
        {
            if (!_live.Remove(name, out var versions))
            {
                throw VaultException.SecretNotFound(name);
            }

            var deleted = new VaultDeletedSecret(versions[^1], now, now.AddDays(RecoverableDays));
            _deleted[name] = (versions, deleted);
            return deleted;
        }
    }

    public VaultDeletedSecret GetDeleted(string name)
    {
        SecretName.Validate(name);
        lock (_gate)
        {
            return _deleted.TryGetValue(name, out var entry) ? entry.Deleted : throw VaultException.DeletedSecretNotFound(name);
        }
    }

    public IReadOnlyList<VaultDeletedSecret> AllDeleted()
    {
        lock (_gate)
        {
            return [.. _deleted.Values.Select(e => e.Deleted).OrderBy(d => d.Latest.Name, StringComparer.OrdinalIgnoreCase)];
        }
    }

    public void Purge(string name)
    {
        SecretName.Validate(name);
        lock (_gate)
        {
            if (!_deleted.Remove(name))
            {
                throw VaultException.DeletedSecretNotFound(name);
            }
        }
    }

    public VaultSecretVersion Recover(string name)
    {
        SecretName.Validate(name);
        lock (_gate)
        {
            if (!_deleted.Remove(name, out var entry))
            {
                throw VaultException.DeletedSecretNotFound(name);
            }

            _live[name] = entry.Versions;
            return entry.Versions[^1];
        }
    }

    private List<VaultSecretVersion> LiveVersions(string name, string? version) =>
        _live.TryGetValue(name, out var versions) ? versions : throw NotFound(name, version);

    private static VaultSecretVersion Find(List<VaultSecretVersion> versions, string name, string? version)
    {
        if (string.IsNullOrEmpty(version))
        {
            // "Latest" is the most recently created version, even if it is disabled: the service does
            // not fall back to an older enabled one.
            return versions[^1];
        }

        return versions.Find(v => string.Equals(v.Version, version, StringComparison.OrdinalIgnoreCase))
            ?? throw NotFound(name, version);
    }

    private static VaultException NotFound(string name, string? version) =>
        VaultException.SecretNotFound(string.IsNullOrEmpty(version) ? name : $"{name}/{version}");

    private static IReadOnlyDictionary<string, string> Copy(IReadOnlyDictionary<string, string>? tags) =>
        tags is null ? new Dictionary<string, string>() : new Dictionary<string, string>(tags);

    private static string NewVersionId() => RandomNumberGenerator.GetHexString(32, lowercase: true);

    // The wire format has whole seconds; truncating here keeps what a test set equal to what it reads.
    private DateTimeOffset Now() => DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
}
