using System.ComponentModel.DataAnnotations;

namespace FuncKeyOps.Audit;

public sealed class AuditOptions
{
    public const string Section = "Audit";

    /// <summary>
    /// Rows held in memory while Table Storage is slow or down (queued plus in flight). Beyond it new rows go to
    /// the spill file (<see cref="SpillPath"/>), so an outage costs bounded memory instead of the process.
    /// </summary>
    [Range(1, 10_000_000, ErrorMessage = "Audit:Capacity must be from {1} to {2}.")]
    public int Capacity { get; set; } = 100_000;

    /// <summary>
    /// Partitions per second (each second of a minute has its own). Table Storage takes about 2,000 entities/s
    /// per partition, so 16 bound the audit rows of all instances together near 32,000/s. Fewer means fuller
    /// transactions at low rates. Changing it is safe: readers scan minute ranges, not single partitions.
    /// </summary>
    [Range(1, 99, ErrorMessage = "Audit:Shards must be from {1} to {2}.")]
    public int Shards { get; set; } = 16;

    /// <summary>
    /// How long the writer holds the first row of a cycle for more to join it. At low rates this turns one
    /// transaction per request into one per partition per linger (cheaper, and it keeps the write off the
    /// request that caused it); a full cycle, a flush or shutdown ends the wait early. Rows reach the table
    /// within about this long (plus the write itself) while storage is up.
    /// </summary>
    public TimeSpan Linger { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>First wait after a failed write; doubles per failure up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan InitialRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Folder of the spill file: rows that did not fit the memory buffer, kept until Table Storage takes them and
    /// replayed by the next process on this machine after a restart. Must be local disk: on Azure Functions the
    /// default (the temp folder, e.g. /tmp or D:\local\Temp) is per instance and survives a host restart, while
    /// %HOME% is a file share all instances see and would be replayed by whichever instance came first.
    /// </summary>
    public string SpillPath { get; set; } = Path.Combine(Path.GetTempPath(), "funckeyops-audit-spill");

    /// <summary>Spill size at which <see cref="WhenFull"/> applies (1 GiB); 0 switches the spill off.</summary>
    [Range(0, long.MaxValue, ErrorMessage = "Audit:SpillLimitBytes must not be negative.")]
    public long SpillLimitBytes { get; set; } = 1L << 30;

    /// <summary>
    /// With <see cref="AuditWhenFull.Reject"/>: room beyond <see cref="SpillLimitBytes"/> for the rows of refused
    /// calls and of calls already under way when the limit was reached (64 MiB, over 100,000 refusals). Only an
    /// outage that also fills this loses rows, and those are counted in <c>funckeyops.audit.dropped</c>.
    /// </summary>
    [Range(0, long.MaxValue, ErrorMessage = "Audit:SpillReserveBytes must not be negative.")]
    public long SpillReserveBytes { get; set; } = 64L << 20;

    /// <summary>
    /// Days audit rows are kept: the daily retention job (<c>Retention:Schedule</c>) drops a monthly audit table once its
    /// whole month is older than this, so a row lives from this many days to a month more. Usage older than that is still
    /// answered from the rollups (<c>Retention:RollupsDays</c>).
    /// </summary>
    [Range(1, 36_500, ErrorMessage = "Audit:RetentionDays must be from {1} to {2}.")]
    public int RetentionDays { get; set; } = 90;

    /// <summary>What happens once the memory buffer and the spill are both full.</summary>
    public AuditWhenFull WhenFull { get; set; } = AuditWhenFull.Reject;

    internal bool HasValidDelays =>
        InitialRetryDelay > TimeSpan.Zero && MaxRetryDelay >= InitialRetryDelay
        && Linger >= TimeSpan.Zero && Linger <= TimeSpan.FromMinutes(1);
}
