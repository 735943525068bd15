using System.Net;

namespace FuncKeyOps.Anomalies.Detection;

/// <summary>
/// The seam between <c>new_source</c> and the relay keys: the <c>allowedIps</c> a relay key was created with, which are
/// always known sources of it. <see cref="RelayKeyAllowList"/> reads the relay keys' row cache; bench/detect answers
/// from memory, so it judges weeks of windows with the detector's own code and no table.
/// </summary>
internal interface IRelayKeyAllowList
{
    /// <summary>The key's allowed networks; empty for a key without any, or gone since its calls.</summary>
    ValueTask<IReadOnlyList<IPNetwork>> AllowedIpsAsync(string relayKeyId, CancellationToken cancellationToken);
}

/// <summary>The relay keys' own rows, through their refreshing cache (<see cref="RelayKeys.RelayKeyCache"/>).</summary>
internal sealed class RelayKeyAllowList(RelayKeys.RelayKeyCache relayKeys) : IRelayKeyAllowList
{
    public async ValueTask<IReadOnlyList<IPNetwork>> AllowedIpsAsync(string relayKeyId, CancellationToken cancellationToken) =>
        (await relayKeys.GetAsync(relayKeyId, cancellationToken).ConfigureAwait(false))?.Key.AllowedIps ?? [];
}
