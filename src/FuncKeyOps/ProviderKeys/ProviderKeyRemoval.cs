using FuncKeyOps.Pools;
using FuncKeyOps.Rotation;

namespace FuncKeyOps.ProviderKeys;

/// <summary>
/// Removes a provider key's registration; its vault secret stays (versions may still be needed to revoke at the
/// provider, and Key Vault's own deletion is a separate, recoverable act). A removal never silently moves a provider's
/// traffic to another key: removing the key that serves while others are registered is refused; removing the only
/// key of a provider is allowed, and its calls then get 503. Nor does it silently shrink a pool: a member is removed
/// from its pools first.
/// </summary>
public sealed class ProviderKeyRemoval(ProviderKeyRegistry registry, RotationStore rotations, PoolRegistry pools)
{
    public async Task<RemovalOutcome> RemoveAsync(string name, CancellationToken cancellationToken)
    {
        var all = await registry.ListAsync(cancellationToken).ConfigureAwait(false);
        if (all.FirstOrDefault(c => c.Name == name) is not { } config)
            return RemovalOutcome.NotFound;
        if (await IsRotatingAsync(config, cancellationToken).ConfigureAwait(false))
            return RemovalOutcome.RotationRunning;
        // A pool written with this key while it is being removed keeps it as a member that no longer exists: the
        // router skips such a member, so the pool's others serve on.
        if ((await pools.PoolsWithMemberAsync(name, cancellationToken).ConfigureAwait(false)).Count > 0)
            return RemovalOutcome.PoolMember;
        var sameProvider = all.Where(c => c.Provider == config.Provider).ToList();
        if (sameProvider.Count > 1 && ProviderKeyRegistry.DefaultOf(sameProvider)!.Name == name)
            return RemovalOutcome.InUse;
        // False when a concurrent removal got there first: the same answer a second DELETE gets.
        return await registry.DeleteAsync(name, cancellationToken).ConfigureAwait(false) ? RemovalOutcome.Removed : RemovalOutcome.NotFound;
    }

    /// <summary>True while the key has an unfinished rotation, so a removal cannot pull the registration from under a running plan.</summary>
    private async ValueTask<bool> IsRotatingAsync(ProviderKeyConfig config, CancellationToken cancellationToken) =>
        await rotations.GetUnfinishedAsync(config.Name, cancellationToken).ConfigureAwait(false) is not null;
}
