namespace FuncKeyOps.Audit;

/// <summary>What a provider key (or every key) spent in a window, from the audit rows: <see cref="UsageQuery"/>.</summary>
/// <param name="ProviderKey">The key asked for; null when every key's rows were counted.</param>
/// <param name="GroupBy">What <see cref="Groups"/> are keyed by: <c>providerKey</c>, <c>relayKey</c> or <c>model</c>.</param>
/// <param name="Versions">
/// Per provider key and version, ordered by key then version: what shadow-usage detection compares with the
/// provider's own report of the key version it issued.
/// </param>
/// <param name="Groups">Per <see cref="GroupBy"/> value, most total tokens first.</param>
public sealed record UsageReport(
    DateTimeOffset From,
    DateTimeOffset To,
    string? ProviderKey,
    string GroupBy,
    UsageTotals Totals,
    IReadOnlyList<UsageVersion> Versions,
    IReadOnlyList<UsageGroup> Groups);

/// <summary>
/// Counts over audit rows. <see cref="Calls"/> counts every row, a failed first attempt of a retried call included
/// (it was a call on its version); tokens come only from rows of answers, so a retried call's tokens count once.
/// </summary>
public record UsageTotals
{
    public long Calls { get; init; }

    /// <summary>Rows with a status of 400 or more or an error code (e.g. a stream broken after a 200).</summary>
    public long Errors { get; init; }

    public long InputTokens { get; init; }
    public long OutputTokens { get; init; }
    public long TotalTokens => InputTokens + OutputTokens;
}

/// <param name="Version">Null for rows that name no version (the relay failed before drawing one).</param>
public sealed record UsageVersion(string ProviderKey, string? Version) : UsageTotals;

/// <param name="Key">The provider key name, relay key id or model; null for rows without one (a call with no model).</param>
public sealed record UsageGroup(string? Key) : UsageTotals;

/// <summary>What <see cref="UsageReport.Groups"/> are keyed by; the names are the admin API's <c>groupBy</c> values.</summary>
public enum UsageGroupBy
{
    ProviderKey,
    RelayKey,
    Model,
}
