namespace FuncKeyOps.Routing;

// Placeholder until pools are stored: no name is a pool.
internal sealed class NoPools : IPoolDirectory
{
    public ValueTask<ProviderKeyPool?> FindAsync(string name, CancellationToken cancellationToken = default) => new((ProviderKeyPool?)null);
}
