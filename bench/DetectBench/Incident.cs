using System.Globalization;
using FuncKeyOps.Anomalies;

namespace FuncKeyOps.Bench.DetectBench;

/// <summary>
/// One line of bench/detect/incidents.txt: <c>kind subject start size [duration]</c>. A size written <c>x1.02</c> is that
/// multiple of the threshold in force for the subject when the incident starts (baseline detectors: of the bound the
/// baseline makes); a plain number is the observed value itself (counts for detectors whose bound is zero). Duration in
/// sweep windows (hours for shadow_usage and retired_key_use); defaults 1 window, 12 for budget, 1 hour.
/// </summary>
internal sealed class Incident
{
    public static readonly IReadOnlyList<string> Kinds =
    [
        "volume", "tokens", "quiet_hours", "new_source", "new_source_spread", "auth_failures", "auth_failures_total",
        "error_rate", "provider_key_rejected", "budget", "budget_month", "shadow_usage", "retired_key_use",
    ];

    public required int Line { get; init; }
    public required string Kind { get; init; }
    public required string Subject { get; init; }
    public required DateTimeOffset Start { get; init; }
    public required double Size { get; init; }
    public required bool Relative { get; init; }
    public required int Duration { get; init; }

    public string Detector => Kind switch
    {
        "new_source_spread" => Detectors.NewSource,
        "auth_failures_total" => Detectors.AuthFailures,
        "budget_month" => Detectors.Budget,
        _ => Kind,
    };

    /// <summary>Read from the providers' reports (hours, after they settle), not from the relay's audit rows.</summary>
    public bool ProviderSide => Detector is Detectors.ShadowUsage or Detectors.RetiredKeyUse;
    /// <summary>Judged from the relay's own rows in the window where it happens: the 2-window target applies.</summary>
    public bool RelaySide => !ProviderSide && Detector != Detectors.Budget;

    public int StartWindow => Population.IndexOf(Start);
    public DateTimeOffset End => Start + (ProviderSide ? TimeSpan.FromHours(Duration) : SweepWindow.Length * Duration);

    // Filled in as it is injected.
    /// <summary>The finding subject it should raise (as the detector names it).</summary>
    public string? FindingSubject { get; set; }
    public double? Threshold { get; set; }
    public double? Observed { get; set; }
    /// <summary>Whether any window of it went over its threshold; null when it could not be placed (see <see cref="Note"/>).</summary>
    public bool? Over { get; set; }
    public string? Note { get; set; }
    public List<Finding> Found { get; } = [];

    /// <summary>The observed value to inject for a bound: just over when the size is over 1, never over when it is not.</summary>
    public double Target(double threshold)
    {
        if (!Relative)
            return Size;
        var scaled = Size * threshold;
        return Size > 1 ? Math.Max(Math.Ceiling(scaled), Math.Floor(threshold) + 1) : Math.Floor(scaled);
    }

    public void Record(double observed, double threshold, bool over)
    {
        Threshold = threshold;
        Observed = Math.Max(Observed ?? observed, observed);
        Over = (Over ?? false) || over;
    }

    public static List<Incident> Load(string path)
    {
        var incidents = new List<Incident>();
        var number = 0;
        foreach (var raw in File.ReadLines(path))
        {
            number++;
            var line = raw.Split('#', 2)[0].Trim();
            if (line.Length == 0)
                continue;
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length is < 4 or > 5 || !Kinds.Contains(parts[0]))
                throw new FormatException($"{path}:{number}: expected 'kind subject start size [duration]' with kind one of {string.Join(", ", Kinds)}");
            var relative = parts[3].StartsWith('x');
            var kind = parts[0];
            incidents.Add(new Incident
            {
                Line = number,
                Kind = kind,
                Subject = parts[1],
                Start = DateTimeOffset.Parse(parts[2], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
                Size = double.Parse(relative ? parts[3][1..] : parts[3], CultureInfo.InvariantCulture),
                Relative = relative,
                Duration = parts.Length == 5 ? int.Parse(parts[4], CultureInfo.InvariantCulture) : kind is "budget" or "budget_month" ? 12 : 1,
            });
        }
        return incidents;
    }
}
