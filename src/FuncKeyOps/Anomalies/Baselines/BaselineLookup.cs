using Microsoft.Extensions.Options;

namespace FuncKeyOps.Anomalies.Baselines;

/// <summary>A subject's expected counts in one sweep window (per-window median and MAD), as the detectors compare.</summary>
public readonly record struct BaselineExpectation(BaselineStat Calls, BaselineStat Tokens, BaselineStat Errors, int Samples);

/// <summary>
/// What the <c>volume</c>, <c>tokens</c> and <c>quiet_hours</c> detectors ask: the baseline of a subject for the
/// windows of one hour. Loaded once per hour (every subject's row of that hour-of-week), then answered from memory.
/// </summary>
internal sealed class BaselineLookup(BaselineStore store, IOptions<AnomalyOptions> options) : IBaselineLookup
{
    public async Task<BaselineHour> LoadAsync(DateTimeOffset time, CancellationToken cancellationToken = default)
    {
        var rows = await store.ReadHourAsync(Baseline.HourOfWeekOf(time), cancellationToken).ConfigureAwait(false);
        var since = await store.SinceAsync(cancellationToken).ConfigureAwait(false);
        return new BaselineHour(time, rows, since, options.Value.WarmUp);
    }
}

/// <summary>The baselines of the windows of one hour, as loaded once for them (<see cref="IBaselineLookup"/>).</summary>
public sealed class BaselineHour
{
    private readonly DateTimeOffset _time;
    private readonly IReadOnlyDictionary<string, Baseline> _rows;
    private readonly IReadOnlyDictionary<string, DateTimeOffset> _since;
    private readonly TimeSpan _warmUp;

    internal BaselineHour(DateTimeOffset time, IReadOnlyDictionary<string, Baseline> rows, IReadOnlyDictionary<string, DateTimeOffset> since, TimeSpan warmUp)
    {
        _time = time;
        _rows = rows;
        _since = since;
        _warmUp = warmUp;
    }

    /// <summary>The hour these baselines are for (its start).</summary>
    public DateTimeOffset Hour => Rollups.RollupPeriod.Containing(Rollups.RollupLevel.Hour, _time).Start;

    /// <summary>
    /// The subject's expected per-window counts. False while it warms up (first seen less than
    /// <see cref="AnomalyOptions.WarmUp"/> before) or was never seen: the baseline detectors stay silent for it.
    /// A subject past its warm-up with no row for this hour made no calls in any sample: its baseline is zero.
    /// </summary>
    /// <param name="subject">As a finding names it; a provider key's version is ignored.</param>
    public bool TryGet(string subject, out BaselineExpectation expected)
    {
        expected = default;
        var key = BaselineSubjects.Of(subject);
        _rows.TryGetValue(key, out var row);
        DateTimeOffset? first = _since.TryGetValue(key, out var seen) ? seen : null;
        if (row is not null && (first is null || row.Since < first))
            first = row.Since;
        if (first is null || _time - first.Value < _warmUp)
            return false;
        expected = row is null
            ? new BaselineExpectation(default, default, default, 0)
            : new BaselineExpectation(row.Calls.PerWindow, row.Tokens.PerWindow, row.Errors.PerWindow, row.Samples);
        return true;
    }

    /// <summary>Whether the subject is still in its warm-up (or unknown): the findings API and tests can say why nothing fired.</summary>
    public bool IsWarmingUp(string subject) => !TryGet(subject, out _);
}
