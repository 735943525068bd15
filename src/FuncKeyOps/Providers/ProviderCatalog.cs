using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace FuncKeyOps.Providers;

/// <summary>
/// The adapters by route name. Names are matched exactly (ordinal, lowercase as routed): <c>/api/relay/OpenAI/...</c>
/// is a 404 rather than a second spelling of a route that keys, quotas and audit rows are filed under.
/// </summary>
public sealed class ProviderCatalog
{
    private readonly FrozenDictionary<string, IProviderAdapter> _byName;

    public ProviderCatalog(IEnumerable<IProviderAdapter> adapters)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        var all = adapters.ToArray();
        var byName = new Dictionary<string, IProviderAdapter>(StringComparer.Ordinal);
        foreach (var adapter in all)
        {
            if (!byName.TryAdd(adapter.Name, adapter))
                throw new ArgumentException($"Two provider adapters are named '{adapter.Name}'.", nameof(adapters));
        }
        All = all;
        _byName = byName.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public IReadOnlyList<IProviderAdapter> All { get; }

    public IEnumerable<string> Names => All.Select(a => a.Name);

    /// <summary>The error shape for a route naming no known provider: OpenAI's, the one most clients parse.</summary>
    public IProviderAdapter Fallback => _byName.GetValueOrDefault(ProviderNames.OpenAI) ?? All[0];

    public bool TryGet(string name, [MaybeNullWhen(false)] out IProviderAdapter adapter) => _byName.TryGetValue(name, out adapter);
}
