namespace FuncKeyOps.Routing;

// Placeholder until tenants' own keys are stored: every tenant uses the platform's routing.
internal sealed class NoTenantKeys : ITenantKeyDirectory
{
    public ValueTask<TenantKeyRoute> FindAsync(string tenant, string provider, CancellationToken cancellationToken = default) => new(TenantKeyRoute.Platform);
}
