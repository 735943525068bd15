using System.ComponentModel.DataAnnotations;

namespace FuncKeyOps.Retention;

/// <summary>
/// The daily retention job (<see cref="RetentionJob"/>): when it runs and how long the sweep's own tables keep their
/// rows. Configuration section <c>Retention</c>; the audit tables' retention is <c>Audit:RetentionDays</c>, beside the
/// audit's other settings. Every age counts whole periods: a month, day or hour is removed only once all of it is older.
/// </summary>
public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>
    /// When the job runs: cron in UTC, six fields with seconds (NCRONTAB) as the Functions timer reads the same setting
    /// (<c>%Retention:Schedule%</c>), or five. Default daily at 04:00, away from the rotation schedule's 03:00. A missed day
    /// is caught up by the next: each run removes everything past its age.
    /// </summary>
    public string Schedule { get; set; } = "0 0 4 * * *";

    /// <summary>
    /// Days findings are kept, counted from their window (a finding's day is removed once the whole day is older). Over a
    /// year, so last year's incident can still be read when this year's looks like it.
    /// </summary>
    [Range(1, 36_500, ErrorMessage = "Retention:FindingsDays must be from {1} to {2}.")]
    public int FindingsDays { get; set; } = 400;

    /// <summary>
    /// Days hourly and daily usage rollups are kept: <c>GET usage</c> answers from them after the raw audit rows are gone,
    /// so over a year lets a month be set against the same month a year earlier.
    /// </summary>
    [Range(1, 36_500, ErrorMessage = "Retention:RollupsDays must be from {1} to {2}.")]
    public int RollupsDays { get; set; } = 400;

    /// <summary>
    /// Days a baseline row may go without being written before it is removed. The sweep rewrites a subject's hour-of-week
    /// weekly while the subject has traffic and its baselines read 4 weeks back, so 35 days of silence means a relay or
    /// provider key that is gone (or idle long enough to be learned again from its warm-up).
    /// </summary>
    [Range(29, 36_500, ErrorMessage = "Retention:BaselinesDays must be from {1} to {2}: baselines read 4 weeks back.")]
    public int BaselinesDays { get; set; } = 35;
}
