using FuncKeyOps.RelayKeys;

namespace FuncKeyOps.Routing;

/// <summary>Which provider keys serve a relay key's calls to a provider (<see cref="ProviderRouter"/>).</summary>
public interface IProviderRouter
{
    ValueTask<ProviderRoute> RouteAsync(RelayKey key, string provider, CancellationToken cancellationToken = default);
}
