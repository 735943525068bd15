using FuncKeyOps.Pools;
using FuncKeyOps.Rotation;

namespace FuncKeyOps.ProviderKeys;

/// <summary>
/// Removes a provider key's registration; its vault secret stays (versions may still be needed to revoke at the
/// provider, and Key Vault's own deletion is a separate, recoverable act). A removal never silently moves a provider's
/// traffic to another key: removing a provider's default while other platform keys are registered is refused; removing
/// the only key of a provider is allowed, and its calls then get 503. Nor does it silently shrink a pool: a member is
/// removed from its pools first.
/// </summary>
public sealed class ProviderKeyRemoval(ProviderKeyRegistry registry, RotationStore rotations, PoolRegistry pools)
{
    private const int Attempts = 5;

    public async Task<RemovalResult> RemoveAsync(string name, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var all = await registry.ListAsync(cancellationToken).ConfigureAwait(false);
            if (all.FirstOrDefault(c => c.Name == name) is not { } config)
                return new(RemovalOutcome.NotFound);
            if (await IsRotatingAsync(config, cancellationToken).ConfigureAwait(false))
                return new(RemovalOutcome.RotationRunning);
            // A pool written with this key while it is being removed keeps it as a member that no longer exists: the
            // router skips such a member, so the pool's others serve on.
            if (await pools.PoolsWithMemberAsync(name, cancellationToken).ConfigureAwait(false) is { Count: > 0 } holding)
                return new(RemovalOutcome.PoolMember, Pools: holding);
            // The default serves every unbound relay key: it goes only once another key is made default, or alone.
            var platform = all.Where(c => c.Provider == config.Provider && c.Tenant is null).ToList();
            if (platform.Count > 1 && ProviderKeyRegistry.DefaultOf(platform)!.Name == name)
                return new(RemovalOutcome.InUse, platform.Where(c => c.Name != name).Min(c => c.Name));
            // Null: its default flag moved since the list was read (or a concurrent removal raced it); decide again.
            if (await registry.DeleteIfUnchangedAsync(config, cancellationToken).ConfigureAwait(false) is { } removed)
                return new(removed ? RemovalOutcome.Removed : RemovalOutcome.NotFound);
        }
        throw new InvalidOperationException($"The provider key '{name}' kept changing while it was removed.");
    }

    /// <summary>True while the key has an unfinished rotation, so a removal cannot pull the registration from under a running plan.</summary>
    private async ValueTask<bool> IsRotatingAsync(ProviderKeyConfig config, CancellationToken cancellationToken) =>
        await rotations.GetUnfinishedAsync(config.Name, cancellationToken).ConfigureAwait(false) is not null;
}
