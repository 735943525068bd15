using System.ComponentModel.DataAnnotations;

namespace FuncKeyOps.Anomalies.Baselines;

/// <summary>How baselines are learnt; configuration section <c>Anomalies</c>.</summary>
public sealed class BaselineOptions
{
    public const string Section = "Anomalies";

    /// <summary>
    /// History a relay key or provider key needs before it has a baseline (<c>Anomalies:WarmUp</c>): until then the
    /// baseline detectors stay silent for it and only the absolute ones fire. Default 7 days.
    /// </summary>
    [Range(typeof(TimeSpan), "01:00:00", "28.00:00:00", ErrorMessage = "Anomalies:WarmUp must be between 1 hour and 28 days.")]
    public TimeSpan WarmUp { get; set; } = TimeSpan.FromDays(7);
}
