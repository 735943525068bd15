using System.ComponentModel.DataAnnotations;

namespace FuncKeyOps.Audit;

public sealed class AuditOptions
{
    public const string Section = "Audit";

    /// <summary>
    /// Rows held in memory while Table Storage is slow or down (queued plus in flight). Beyond it new rows are
    /// dropped and counted, so an outage costs bounded memory instead of the process.
    /// </summary>
    [Range(1, 10_000_000)]
    public int Capacity { get; set; } = 100_000;

    /// <summary>
    /// Partitions per second (each second of a minute has its own). Table Storage takes about 2,000 entities/s
    /// per partition, so 16 bound the audit rows of all instances together near 32,000/s. Fewer means fuller
    /// transactions at low rates. Changing it is safe: readers scan minute ranges, not single partitions.
    /// </summary>
    [Range(1, 99)]
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

    internal bool HasValidDelays =>
        InitialRetryDelay > TimeSpan.Zero && MaxRetryDelay >= InitialRetryDelay
        && Linger >= TimeSpan.Zero && Linger <= TimeSpan.FromMinutes(1);
}
