using System.Net;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Baselines;
using FuncKeyOps.Anomalies.Detection;
using FuncKeyOps.Anomalies.Rollups;
using FuncKeyOps.Anomalies.Sweep;

namespace FuncKeyOps.Bench.DetectBench;

/// <summary>
/// The known sources as <c>KnownSourceStore</c> keeps them, in memory: a source is known for a key when last seen in the
/// 30 days before the window; each closed window's sources are learnt after its detectors ran.
/// </summary>
internal sealed class MemoryKnownSources : IKnownSourceStore
{
    private static readonly TimeSpan Horizon = TimeSpan.FromDays(30);
    private readonly Dictionary<string, Dictionary<string, DateTimeOffset>> _seen = new(StringComparer.Ordinal);

    public ValueTask<IReadOnlySet<string>> GetAsync(string relayKeyId, SweepWindow before, CancellationToken cancellationToken)
    {
        IReadOnlySet<string> known = _seen.TryGetValue(relayKeyId, out var sources)
            ? sources.Where(s => s.Value >= before.Start - Horizon && s.Value < before.Start).Select(s => s.Key).ToHashSet(StringComparer.Ordinal)
            : new HashSet<string>();
        return ValueTask.FromResult(known);
    }

    /// <summary>
    /// The keys in use before the five weeks start were seen from their usual sources the day before (their history
    /// before the measured weeks); keys that start later begin with nothing known and learn their first sources.
    /// </summary>
    public void SeedHistory(Population population)
    {
        foreach (var key in population.RelayKeys.Where(k => k.Start == Population.Start))
        {
            var sources = key.Sources switch
            {
                SourceKind.Fixed => key.Addresses,
                SourceKind.Ipv6Rotating => [SourceKey.Of(key.Addresses[0] + ":0:0:0:1")],
                _ => [],
            };
            _seen[key.Id] = sources.ToDictionary(s => s, _ => Population.Start.AddDays(-1), StringComparer.Ordinal);
        }
    }

    public void Learn(WindowTally tally)
    {
        foreach (var (id, key) in tally.RelayKeys)
        {
            if (!_seen.TryGetValue(id, out var sources))
                _seen[id] = sources = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            foreach (var source in key.CallsBySource.Keys)
                sources[source] = tally.Window.Start;
        }
    }
}

/// <summary>The relay keys' allowedIps: the allow-list class of keys (rk195-rk199) has one block.</summary>
internal sealed class MemoryAllowList(Population population) : IRelayKeyAllowList
{
    private readonly HashSet<string> _listed = population.RelayKeys.Where(k => k.Sources == SourceKind.AllowList).Select(k => k.Id).ToHashSet(StringComparer.Ordinal);
    private static readonly IReadOnlyList<IPNetwork> Block = [IPNetwork.Parse(Population.AllowListBlock)];

    public ValueTask<IReadOnlyList<IPNetwork>> AllowedIpsAsync(string relayKeyId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_listed.Contains(relayKeyId) ? Block : (IReadOnlyList<IPNetwork>)[]);
}

/// <summary>
/// What the rollups and the <c>baselines</c> table hold for the baselines, in memory: per complete hour, each subject's
/// calls, tokens and errors summed from the windows' rollup cells (<see cref="BaselineSubjects.Of(RollupCell)"/>, as the
/// builder reads them); the rows per subject and hour-of-week as last written; first sightings. The statistics are the
/// library's (<see cref="BaselineBuilder.Compute"/>), and so is the warm-up (<see cref="BaselineHour"/>).
/// </summary>
internal sealed class MemoryBaselines(TimeSpan warmUp)
{
    private readonly Dictionary<DateTimeOffset, Dictionary<string, (double Calls, double Tokens, double Errors)>> _hours = [];
    private readonly Dictionary<int, Dictionary<string, Baseline>> _rows = [];
    private readonly Dictionary<string, DateTimeOffset> _since = new(StringComparer.Ordinal);
    private Dictionary<string, (double Calls, double Tokens, double Errors)> _open = new(StringComparer.Ordinal);

    /// <summary>Counts a closed window into its hour, from the same pass's rollup.</summary>
    public void Add(WindowTally tally)
    {
        foreach (var cell in tally.Rollup.Cells)
        {
            if (BaselineSubjects.Of(cell) is not { } subject)
                continue;
            var (calls, tokens, errors) = _open.GetValueOrDefault(subject);
            _open[subject] = (calls + cell.Counts.Calls, tokens + cell.Counts.TotalTokens, errors + cell.Counts.Errors);
        }
        if (tally.Window.End.UtcTicks % TimeSpan.TicksPerHour == 0)
        {
            _hours[tally.Window.End.AddHours(-1)] = _open;
            _open = new(StringComparer.Ordinal);
        }
    }

    /// <summary>As <c>BaselineUpdateSink</c> once an hour is complete: the next hour's baselines, the raised windows left out.</summary>
    public void Update(DateTimeOffset next, IEnumerable<(string Subject, DateTimeOffset Window)> raised)
    {
        var samples = BaselineBuilder.SampleHours(next).Append(next.AddHours(-1))
            .Where(_hours.ContainsKey).Distinct().ToDictionary(h => h, h => _hours[h]);
        var (_, computed) = BaselineBuilder.Compute(next, samples, _since, BaselineBuilder.LeftOut(raised.ToHashSet()));
        foreach (var baseline in computed)
        {
            if (!_rows.TryGetValue(baseline.HourOfWeek, out var rows))
                _rows[baseline.HourOfWeek] = rows = new(StringComparer.Ordinal);
            rows[baseline.Subject] = baseline;
        }
    }

    /// <summary>As <c>BaselineLookup.LoadAsync</c>: every subject's row of the hour-of-week, the first sightings.</summary>
    public BaselineHour Load(DateTimeOffset hour) => new(hour,
        _rows.TryGetValue(Baseline.HourOfWeekOf(hour), out var rows) ? new Dictionary<string, Baseline>(rows, StringComparer.Ordinal) : new Dictionary<string, Baseline>(),
        new Dictionary<string, DateTimeOffset>(_since, StringComparer.Ordinal), warmUp);
}
