namespace FuncKeyOps.Anomalies.Rollups;

/// <summary>
/// What a rollup cell counts by. The provider key's own dimensions (<see cref="Version"/>, <see cref="RelayKey"/>,
/// <see cref="Model"/>) are scoped to the provider key the rows named, so <c>GET usage</c> for one key and any grouping
/// reads that key's cells alone; summed over keys they give a relay key's or a model's whole traffic.
/// </summary>
internal enum RollupDimension
{
    /// <summary>Provider key and version: usage's totals and versions, shadow usage, the provider key's baseline.</summary>
    Version,

    /// <summary>Provider key and relay key: usage by relay key; summed over provider keys, the relay key's baseline.</summary>
    RelayKey,

    /// <summary>Provider key and model: usage by model.</summary>
    Model,

    Tenant,

    /// <summary>The source address as audited.</summary>
    Source,
}
