using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Routing;

namespace FuncKeyOps.RelayKeys;

/// <summary>
/// Refuses, when a relay key is written, a binding to a name that is neither a platform provider key of that provider
/// nor a pool of it: a typo is then a 400 for the operator rather than 503s for every client call. Provider keys are
/// read from storage, not the relay's snapshot, so a key registered a moment ago is found. A bound key removed later
/// is the relay's to answer (503 <c>bound_provider_key_missing</c>).
/// </summary>
public sealed class RelayKeyBindingCheck(ProviderKeyRegistry registry, IPoolDirectory pools)
{
    /// <summary>Checks the bindings of <paramref name="key"/> that <paramref name="before"/> did not already have.</summary>
    /// <exception cref="RelayKeyValidationException">Naming every unknown name.</exception>
    public async Task ThrowIfUnknownAsync(RelayKey key, RelayKey? before, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        foreach (var (provider, name) in key.ProviderKeys)
        {
            if (before is not null && before.ProviderKeys.GetValueOrDefault(provider) == name)
                continue; // accepted when it was written; a key deleted since does not block other changes
            if (await registry.GetAsync(name, cancellationToken).ConfigureAwait(false) is { Tenant: null } config && config.Provider == provider)
                continue;
            if (await pools.FindAsync(name, cancellationToken).ConfigureAwait(false) is { } pool && pool.Provider == provider)
                continue;
            errors.Add($"providerKeys.{provider}: '{name}' is neither a provider key nor a pool of {provider}.");
        }
        if (errors.Count > 0)
            throw new RelayKeyValidationException(errors);
    }
}
