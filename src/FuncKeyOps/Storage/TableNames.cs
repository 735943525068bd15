using System.Globalization;

namespace FuncKeyOps.Storage;

/// <summary>Logical table names and key formats of DESIGN.md's storage layout, in one place.</summary>
public static class TableNames
{
    public const string RelayKeys = "clientkeys"; // the table name DESIGN.md gives the relay keys
    public const string ProviderKeys = "providerkeys";
    /// <summary>Pools of provider keys (<c>Pools/PoolRegistry</c>).</summary>
    public const string Pools = "providerpools";
    public const string Rotations = "rotations";
    public const string Usage = "usage";
    public const string Anomalies = "anomalies";
    public const string Baselines = "baselines";

    /// <summary>Usage summed per sweep window, hour and day, with a marker per complete period (<c>Anomalies/Rollups/RollupStore</c>).</summary>
    public const string Rollups = "rollups";

    /// <summary>Each relay key's sources and when each was last seen, for <c>new_source</c> (<c>Anomalies/KnownSources/KnownSourceStore</c>).</summary>
    public const string KnownSources = "knownsources";

    /// <summary>Alerts by dedupe key: sent once across instances and restarts (<c>Alerts/AlertLedger</c>).</summary>
    public const string Alerts = "alerts";

    /// <summary>The admin trail: one row per admin change or failed admin authentication (<c>Admin/AdminEventStore</c>).</summary>
    public const string AdminEvents = "adminevents";

    /// <summary>Tenants' policies and the providers they bring their own keys for (<c>Tenants/TenantStore</c>).</summary>
    public const string Tenants = "tenants";

    /// <summary>What every monthly audit table's name starts with, before its <c>yyyyMM</c>.</summary>
    public const string AuditPrefix = "audit";

    /// <summary>Monthly audit tables make retention a table drop (<c>Retention/RetentionJob</c>).</summary>
    public static string Audit(DateTimeOffset time) =>
        AuditPrefix + time.UtcDateTime.ToString("yyyyMM", CultureInfo.InvariantCulture);
}
