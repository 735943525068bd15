using System.Diagnostics;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Secrets;
using FuncKeyOps.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Anomalies.ShadowUsage;

/// <summary>
/// Shadow usage, the leak no gateway sees: a provider key copied out of the vault and used straight at the provider.
/// For each settled hour (<see cref="ShadowUsageOptions.UsageSettle"/> after it ends) and again at
/// <see cref="ShadowUsageOptions.UsageRejudge"/>, for every provider key whose connector's provider publishes a per-key
/// usage report (<see cref="IProviderUsageReport"/>: OpenAI, Anthropic) and every version of it with a
/// <c>providerKeyId</c> tag, the provider's usage of that key in that hour is set against the relay's own use of the
/// version (<see cref="IRelayHourlyUsage"/>) by <see cref="ShadowJudgement"/>. Gemini and Azure OpenAI publish no per-key
/// token report: their keys are not judged here, and the relay-side detectors alone cover them.
/// </summary>
/// <remarks>
/// <para>Which hours a key has had judged is kept per key (<see cref="ShadowCursors"/>), so each hour's report is read
/// twice, not every sweep. <see cref="RunAsync"/> judges and <see cref="CommitAsync"/> moves the cursors: the caller
/// commits once the findings are stored, so a crash in between judges the same hours again, with the same finding ids.</para>
/// <para>The 24 h judgement of an hour yields the same finding id as the settled one (<see cref="FindingId"/> of detector,
/// subject and hour). When the first judgement found nothing and the late-reported usage now crosses the line, the
/// finding is new and raised then. When the first one found it already, the store keeps the first (its alert and action
/// were taken on it); the larger gap of the second is not raised again, since the key version is already contained or
/// alerted on, and its hour cannot be re-opened.</para>
/// <para>Nothing a provider or the vault does throws out of a run: a 429/5xx, an unreadable answer or a missing admin
/// credential is a <see cref="ShadowUsageWarning"/>, that key's hours stay unjudged for the next run, and the other keys go on.</para>
/// </remarks>
internal sealed partial class ShadowUsageCheck(
    ProviderKeyRegistry registry,
    ISecretStore secrets,
    IEnumerable<IProviderUsageReport> reports,
    IRelayHourlyUsage relay,
    ShadowCursors cursors,
    IOptions<ShadowUsageOptions> options,
    ILogger<ShadowUsageCheck> logger)
{
    public const string Settled = "settled";
    public const string Rejudged = "24h";

    private readonly Dictionary<string, IProviderUsageReport> _reports = reports.ToDictionary(r => r.Connector, StringComparer.Ordinal);

    public async Task<ShadowUsageRun> RunAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        using var span = FuncKeyOpsTelemetry.Source.StartActivity("shadow usage", ActivityKind.Internal);
        var limits = options.Value;
        var run = new RunState(UsageHours.Floor(now - limits.UsageSettle), UsageHours.Floor(now - limits.UsageRejudge), now);

        IReadOnlyList<ProviderKeyConfig> keys;
        try
        {
            keys = await registry.ListAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Soft(e, cancellationToken))
        {
            LogCheckFailed(logger, e.GetType().Name);
            return run.ToRun([new ShadowUsageWarning(null, $"The provider keys could not be read ({e.GetType().Name}); shadow usage is judged next run.")]);
        }

        var warnings = new List<ShadowUsageWarning>();
        foreach (var key in keys.OrderBy(k => k.Name, StringComparer.Ordinal))
        {
            if (!_reports.TryGetValue(key.Connector, out var report))
                continue;
            try
            {
                if (await JudgeKeyAsync(key, report, run, cancellationToken).ConfigureAwait(false) is { } warning)
                    warnings.Add(new ShadowUsageWarning(key.Name, warning));
            }
            catch (Exception e) when (Soft(e, cancellationToken))
            {
                LogKeyFailed(logger, key.Name, e.GetType().Name);
                warnings.Add(new ShadowUsageWarning(key.Name, $"Shadow usage of provider key {key.Name} was not judged ({e.GetType().Name}); it is judged next run."));
            }
        }

        span?.SetTag("fko.shadow.findings", run.Findings.Count);
        span?.SetTag("fko.shadow.warnings", warnings.Count);
        return run.ToRun(warnings);
    }

    /// <summary>
    /// Marks the run's hours judged, each key's cursor by an ETag-guarded write. A cursor another run moved meanwhile is
    /// left as that run wrote it (it judged the same hours). Call it once the run's findings are stored.
    /// </summary>
    public async Task CommitAsync(ShadowUsageRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        foreach (var advance in run.Advances)
        {
            if (!await cursors.TryAdvanceAsync(advance.Read, advance.Next, cancellationToken).ConfigureAwait(false))
                LogCursorMoved(logger, advance.Next.RowKey);
        }
    }

    /// <summary>Judges the key's unjudged hours; a warning when they could not be (they stay unjudged).</summary>
    private async Task<string?> JudgeKeyAsync(ProviderKeyConfig key, IProviderUsageReport report, RunState run, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        var cursor = await cursors.ReadAsync(key.Name, cancellationToken).ConfigureAwait(false);
        // A key judged for the first time starts at its last settled hour: the hours before it were never judged, and
        // are not re-judged either.
        var settledFrom = cursor?.SettledThrough ?? run.SettledLimit - UsageHours.Length;
        var rejudgeFrom = cursor?.RejudgedThrough ?? settledFrom;
        // After a long outage only the latest hours are caught up on, so one run never reads weeks of reports.
        var catchUp = TimeSpan.FromHours(Math.Floor(limits.UsageMaxCatchUp.TotalHours));
        string? skipped = null;
        if (settledFrom < run.SettledLimit - catchUp || rejudgeFrom < run.RejudgeLimit - catchUp)
        {
            skipped = $"Shadow usage of provider key {key.Name} was more than {(int)catchUp.TotalHours} hours behind; the hours before were left unjudged.";
            settledFrom = Max(settledFrom, run.SettledLimit - catchUp);
            rejudgeFrom = Max(rejudgeFrom, run.RejudgeLimit - catchUp);
        }

        // An hour already old enough for its second judgement when first seen (after downtime) is judged once, as the
        // second: the rejudge range holds it, since a key's re-judged hours never run ahead of its settled ones.
        var hours = UsageHours.Between(rejudgeFrom, run.RejudgeLimit).Select(h => (Hour: h, Judged: Rejudged))
            .Concat(UsageHours.Between(Max(settledFrom, run.RejudgeLimit), run.SettledLimit).Select(h => (Hour: h, Judged: Settled)))
            .ToList();
        var next = ShadowCursor.For(key.Name, Max(settledFrom, run.SettledLimit), Max(rejudgeFrom, run.RejudgeLimit));
        if (hours.Count == 0)
            return skipped;

        var targets = await TargetsAsync(key, report, cancellationToken).ConfigureAwait(false);
        if (targets.Count > 0)
        {
            var answer = await report.ReadAsync(key, [.. targets.Select(t => t.UsageKeyId).Distinct(StringComparer.Ordinal)],
                hours[0].Hour, hours[^1].Hour + UsageHours.Length, cancellationToken).ConfigureAwait(false);
            if (answer.Failure is { } failure)
            {
                LogReportFailed(logger, key.Name, failure);
                return $"The usage report for provider key {key.Name} could not be read: {failure} Its hours are judged next run.";
            }

            foreach (var (hour, judged) in hours)
            {
                var relayHour = await run.RelayHourAsync(relay, hour, cancellationToken).ConfigureAwait(false);
                foreach (var target in targets)
                {
                    var provided = answer.Usage.GetValueOrDefault((target.UsageKeyId, hour)) ?? ProviderHourUsage.None;
                    var sent = relayHour.GetValueOrDefault((key.Name, target.Version)) ?? RelayHourUsage.None;
                    run.HoursJudged++;
                    if (ShadowJudgement.Judge(target, hour, provided, sent, judged, limits, run.Now) is { } finding)
                    {
                        LogFound(logger, finding.Detector, finding.Subject, UsageHours.Format(hour), finding.Severity);
                        run.Findings.Add(finding);
                    }
                }
            }
        }

        run.Advances.Add(new ShadowAdvance(cursor, next));
        return skipped;
    }

    /// <summary>The key's versions the report can name: those with a <c>providerKeyId</c> tag it reads as one of its ids.</summary>
    private async Task<IReadOnlyList<ShadowTarget>> TargetsAsync(ProviderKeyConfig key, IProviderUsageReport report, CancellationToken cancellationToken)
    {
        IReadOnlyList<SecretVersionInfo> versions;
        try
        {
            versions = await secrets.ListVersionsAsync(key.SecretName, cancellationToken).ConfigureAwait(false);
        }
        catch (SecretNotFoundException)
        {
            return [];
        }

        var targets = new List<ShadowTarget>();
        foreach (var version in versions)
        {
            if (version.Tags.GetValueOrDefault(SecretTags.ProviderKeyId) is not { Length: > 0 } providerKeyId || report.UsageKeyId(providerKeyId) is not { } usageKeyId)
                continue;
            // The revoke's own time where the revoking code wrote it, else the version's last change (the revoke's tag write
            // or later): a later bound only ever reads use after the revoke as use before it, never the reverse.
            var revokedAt = version.State == SecretVersionState.Revoked ? SecretTags.ReadRevokedAt(version.Tags) ?? version.UpdatedOn : null;
            targets.Add(new ShadowTarget(key, version.Version, providerKeyId, usageKeyId, revokedAt));
        }
        return targets;
    }

    private static bool Soft(Exception e, CancellationToken cancellationToken) =>
        e is not OperationCanceledException || !cancellationToken.IsCancellationRequested;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    /// <summary>One run's shared state: the limits, the relay's hours read so far (one read per hour for every key), what it found.</summary>
    private sealed class RunState(DateTimeOffset settledLimit, DateTimeOffset rejudgeLimit, DateTimeOffset now)
    {
        private readonly Dictionary<DateTimeOffset, IReadOnlyDictionary<(string Key, string Version), RelayHourUsage>> _relayHours = [];

        public DateTimeOffset SettledLimit => settledLimit;
        public DateTimeOffset RejudgeLimit => rejudgeLimit;
        public DateTimeOffset Now => now;
        public List<Finding> Findings { get; } = [];
        public List<ShadowAdvance> Advances { get; } = [];
        public int HoursJudged { get; set; }

        public async Task<IReadOnlyDictionary<(string Key, string Version), RelayHourUsage>> RelayHourAsync(IRelayHourlyUsage relay, DateTimeOffset hour, CancellationToken cancellationToken)
        {
            if (!_relayHours.TryGetValue(hour, out var usage))
                _relayHours[hour] = usage = await relay.ReadHourAsync(hour, cancellationToken).ConfigureAwait(false);
            return usage;
        }

        public ShadowUsageRun ToRun(IReadOnlyList<ShadowUsageWarning> warnings) => new()
        {
            Findings = Findings,
            Warnings = warnings,
            HoursJudged = HoursJudged,
            Advances = Advances,
        };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shadow usage check could not read the provider keys ({Failure}); judged next run")]
    private static partial void LogCheckFailed(ILogger logger, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shadow usage of provider key {ProviderKeyName} was not judged ({Failure}); judged next run")]
    private static partial void LogKeyFailed(ILogger logger, string providerKeyName, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Usage report for provider key {ProviderKeyName} could not be read: {Detail}")]
    private static partial void LogReportFailed(ILogger logger, string providerKeyName, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Detector} on {Subject} in the hour from {Hour} ({Severity})")]
    private static partial void LogFound(ILogger logger, string detector, string subject, string hour, FindingSeverity severity);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Shadow usage cursor of provider key {ProviderKeyName} was moved by another run first")]
    private static partial void LogCursorMoved(ILogger logger, string providerKeyName);
}
