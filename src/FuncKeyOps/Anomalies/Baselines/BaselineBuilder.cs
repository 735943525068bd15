using FuncKeyOps.Anomalies.Rollups;

namespace FuncKeyOps.Anomalies.Baselines;

/// <summary>
/// Computes the baselines of one hour-of-week from the hour rollups of the same hour in past weeks (or days), for
/// every relay key and provider key seen in them.
/// </summary>
/// <remarks>
/// Samples: the same hour-of-week in each of the last 4 weeks once the subject has 3 weeks of history, else the same
/// hour-of-day in each of the last 7 days. A sample hour is used only if its rollup is complete (an hour never swept
/// is unknown, not quiet) and not before the subject was first seen; in it a subject without a cell made no calls
/// (zero). A sample hour holding a window raised as a finding about the subject is left out for that subject, so
/// an incident does not teach the baseline that it is normal.
/// A subject's first sighting (its <c>since</c> row, which the warm-up counts from) is taken from the hours read here:
/// the samples and the hour before the target. The sweep runs this once an hour, so every hour is the hour before
/// once; an hour missed (downtime) makes a new key's history start later, which only lengthens its warm-up.
/// </remarks>
internal sealed class BaselineBuilder(RollupStore rollups, BaselineStore baselines)
{
    private const int Weeks = 4;
    private const int Days = 7;
    private static readonly TimeSpan WeeklyAfter = TimeSpan.FromDays(21);
    private static readonly TimeSpan Week = TimeSpan.FromDays(7);
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    /// <summary>
    /// Computes and stores the baselines for <paramref name="hour"/> (the hour about to be judged), leaving out
    /// <paramref name="excluded"/> (finding subject, window start). Returns how many were written. Safe to run again.
    /// </summary>
    public async Task<int> UpdateAsync(
        DateTimeOffset hour,
        IReadOnlySet<(string Subject, DateTimeOffset Window)> excluded,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(excluded);
        var leftOut = LeftOut(excluded);
        var target = RollupPeriod.Containing(RollupLevel.Hour, hour);
        var candidates = SampleHours(hour);
        var complete = await rollups.CompleteAsync(RollupLevel.Hour, candidates.Min(), target.Start, cancellationToken).ConfigureAwait(false);
        // The hour just before is read too: keys first seen in it start their history there.
        var previous = target.Start - TimeSpan.FromHours(1);
        var read = candidates.Where(complete.Contains).Append(previous).Where(complete.Contains).Distinct().ToList();

        var samples = new Dictionary<DateTimeOffset, Dictionary<string, (double Calls, double Tokens, double Errors)>>();
        foreach (var start in read)
            samples[start] = await ReadHourAsync(RollupPeriod.Containing(RollupLevel.Hour, start), cancellationToken).ConfigureAwait(false);

        var since = await baselines.SinceAsync(cancellationToken).ConfigureAwait(false);
        var (firstSeen, computed) = Compute(target.Start, samples, since, leftOut);
        await baselines.RecordSinceAsync(firstSeen.Select(f => (f.Key, f.Value)), cancellationToken).ConfigureAwait(false);
        await baselines.WriteAsync(computed, cancellationToken).ConfigureAwait(false);
        return computed.Count;
    }

    /// <summary>Findings about a provider key name its version; its baseline is the key's.</summary>
    internal static HashSet<(string Subject, DateTimeOffset Window)> LeftOut(IReadOnlySet<(string Subject, DateTimeOffset Window)> excluded) =>
        excluded.Select(e => (BaselineSubjects.Of(e.Subject), e.Window)).ToHashSet();

    /// <summary>
    /// The statistics themselves, apart from the tables: given the complete sample hours read (subject totals per hour
    /// start, the hour before <paramref name="target"/> among them), the first sightings known so far (updated in place
    /// with the ones these hours show) and the windows left out, the first sightings to record and the baselines of
    /// <paramref name="target"/>. A seam so bench/detect measures this very math over weeks of history held in memory.
    /// </summary>
    internal static (Dictionary<string, DateTimeOffset> FirstSeen, List<Baseline> Computed) Compute(
        DateTimeOffset target,
        IReadOnlyDictionary<DateTimeOffset, Dictionary<string, (double Calls, double Tokens, double Errors)>> samples,
        Dictionary<string, DateTimeOffset> since,
        HashSet<(string Subject, DateTimeOffset Window)> leftOut)
    {
        var candidates = SampleHours(target);
        var firstSeen = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var (start, subjects) in samples)
        {
            foreach (var subject in subjects.Keys)
            {
                if ((!since.TryGetValue(subject, out var known) || start < known) && (!firstSeen.TryGetValue(subject, out var seen) || start < seen))
                    firstSeen[subject] = start;
            }
        }
        foreach (var (subject, start) in firstSeen)
            since[subject] = start;

        var hourOfWeek = Baseline.HourOfWeekOf(target);
        var computed = new List<Baseline>();
        foreach (var subject in samples.Where(s => candidates.Contains(s.Key)).SelectMany(s => s.Value.Keys).Distinct(StringComparer.Ordinal))
        {
            var first = since[subject];
            var method = target - first >= WeeklyAfter ? BaselineMethod.HourOfWeek : BaselineMethod.HourOfDay;
            var step = method == BaselineMethod.HourOfWeek ? Week : Day;
            var count = method == BaselineMethod.HourOfWeek ? Weeks : Days;
            var values = new List<(double Calls, double Tokens, double Errors)>();
            for (var k = 1; k <= count; k++)
            {
                var start = target - k * step;
                if (start < first || !samples.TryGetValue(start, out var subjects) || Excluded(leftOut, subject, start))
                    continue;
                values.Add(subjects.GetValueOrDefault(subject));
            }
            if (values.Count == 0)
                continue;
            var (callsMedian, callsMad) = RobustStats.Of([.. values.Select(v => v.Calls)]);
            var (tokensMedian, tokensMad) = RobustStats.Of([.. values.Select(v => v.Tokens)]);
            var (errorsMedian, errorsMad) = RobustStats.Of([.. values.Select(v => v.Errors)]);
            computed.Add(new Baseline(subject, hourOfWeek, target, first, method, values.Count,
                new BaselineStat(callsMedian, callsMad), new BaselineStat(tokensMedian, tokensMad), new BaselineStat(errorsMedian, errorsMad)));
        }
        return (firstSeen, computed);
    }

    /// <summary>
    /// The hours a baseline for <paramref name="hour"/> may sample (the same hour of the last 4 weeks and 7 days): the
    /// only hours whose findings can leave a sample out, so the only ones the sweep reads findings of.
    /// </summary>
    public static IReadOnlyList<DateTimeOffset> SampleHours(DateTimeOffset hour)
    {
        var target = RollupPeriod.Containing(RollupLevel.Hour, hour).Start;
        return [.. Enumerable.Range(1, Weeks).Select(k => target - k * Week)
            .Concat(Enumerable.Range(1, Days).Select(k => target - k * Day))
            .Distinct()];
    }

    private static bool Excluded(HashSet<(string Subject, DateTimeOffset Window)> excluded, string subject, DateTimeOffset hour)
    {
        if (excluded.Count == 0)
            return false;
        for (var window = hour; window < hour + TimeSpan.FromHours(1); window += SweepWindow.Length)
        {
            if (excluded.Contains((subject, window)))
                return true;
        }
        return false;
    }

    private async Task<Dictionary<string, (double Calls, double Tokens, double Errors)>> ReadHourAsync(RollupPeriod hour, CancellationToken cancellationToken)
    {
        var subjects = new Dictionary<string, (double Calls, double Tokens, double Errors)>(StringComparer.Ordinal);
        await foreach (var cell in rollups.ReadAsync(hour, BaselineSubjects.Ranges, cancellationToken).ConfigureAwait(false))
        {
            if (BaselineSubjects.Of(cell) is not { } subject)
                continue;
            var (calls, tokens, errors) = subjects.GetValueOrDefault(subject);
            subjects[subject] = (calls + cell.Counts.Calls, tokens + cell.Counts.TotalTokens, errors + cell.Counts.Errors);
        }
        return subjects;
    }
}
