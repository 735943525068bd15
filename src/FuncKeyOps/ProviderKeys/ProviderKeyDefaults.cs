namespace FuncKeyOps.ProviderKeys;

/// <summary>
/// Keeps exactly one platform default per provider across a registration write: which rows' <c>IsDefault</c> flag
/// must change so that every provider the write touches ends with one default. Rows written before defaults existed
/// carry no flag; the first write settles them on the key that already served (<see cref="ProviderKeyRegistry.DefaultOf"/>:
/// first by name), so an upgrade moves no traffic.
/// </summary>
internal static class ProviderKeyDefaults
{
    /// <param name="after">Every registration as it will be after the write, flags as stored.</param>
    /// <param name="providers">The providers the write touches: the key's, and its former one when it changed provider.</param>
    /// <param name="moveTo">The key asked to become its provider's default (<c>"default": true</c>), or null.</param>
    /// <returns>The rows whose flag must change, with their new flag; and each touched provider's default after the write.</returns>
    public static (IReadOnlyDictionary<string, bool> Changes, IReadOnlyList<string> Defaults) Settle(
        IReadOnlyList<ProviderKeyConfig> after, IEnumerable<string> providers, string? moveTo)
    {
        var changes = new Dictionary<string, bool>(StringComparer.Ordinal);
        var defaults = new List<string>();
        foreach (var provider in providers.Distinct(StringComparer.Ordinal))
        {
            var sameProvider = after.Where(c => c.Provider == provider).ToList();
            var chosen = sameProvider.FirstOrDefault(c => c.Name == moveTo && c.Tenant is null) ?? ProviderKeyRegistry.DefaultOf(sameProvider);
            if (chosen is not null)
                defaults.Add(chosen.Name);
            // A tenant's own key is never a default: a flag on one (should it ever be written) is cleared too.
            foreach (var key in sameProvider)
            {
                var wanted = key.Name == chosen?.Name;
                if (key.IsDefault != wanted)
                    changes[key.Name] = wanted;
            }
        }
        return (changes, defaults);
    }
}
