namespace FuncKeyOps.Routing;

/// <summary>Finds pools by name for the relay: a cached read, never a storage call per request.</summary>
public interface IPoolDirectory
{
    ValueTask<ProviderKeyPool?> FindAsync(string name, CancellationToken cancellationToken = default);
}
