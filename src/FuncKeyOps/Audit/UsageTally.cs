using Azure.Data.Tables;

namespace FuncKeyOps.Audit;

/// <summary>
/// Running totals of a usage query: overall, per provider key version and per group. Holds one entry per distinct
/// version and group value, never a row, so a month of rows costs the same memory as a minute.
/// </summary>
internal sealed class UsageTally(UsageGroupBy groupBy)
{
    /// <summary>The columns <see cref="Add"/> reads: the query asks Table Storage for these alone.</summary>
    public static readonly IReadOnlyList<string> Columns =
    [
        nameof(AuditRecord.ProviderKeyName),
        nameof(AuditRecord.ProviderKeyVersion),
        nameof(AuditRecord.RelayKeyId),
        nameof(AuditRecord.Model),
        nameof(AuditRecord.Status),
        nameof(AuditRecord.ErrorCode),
        nameof(AuditRecord.InputTokens),
        nameof(AuditRecord.OutputTokens),
        nameof(AuditRecord.Attempt),
    ];

    private readonly Counts _total = new();
    private readonly Dictionary<(string Key, string? Version), Counts> _versions = [];
    private readonly Dictionary<GroupKey, Counts> _groups = [];

    /// <summary>Counts one projected audit row; rows naming no provider key never reached one and are skipped.</summary>
    public void Add(TableEntity row)
    {
        if (row.GetString(nameof(AuditRecord.ProviderKeyName)) is not { Length: > 0 } key)
            return;
        var version = row.GetString(nameof(AuditRecord.ProviderKeyVersion));
        var group = groupBy switch
        {
            UsageGroupBy.RelayKey => row.GetString(nameof(AuditRecord.RelayKeyId)),
            UsageGroupBy.Model => row.GetString(nameof(AuditRecord.Model)),
            _ => key,
        };
        var error = IsError(row.GetInt32(nameof(AuditRecord.Status)) ?? 0, row.GetString(nameof(AuditRecord.ErrorCode)));
        var answered = IsAnswer(row.GetInt32(nameof(AuditRecord.Attempt)));
        var input = answered ? row.GetInt64(nameof(AuditRecord.InputTokens)) ?? 0 : 0;
        var output = answered ? row.GetInt64(nameof(AuditRecord.OutputTokens)) ?? 0 : 0;

        _total.Add(1, error ? 1 : 0, input, output);
        Entry(_versions, (key, version)).Add(1, error ? 1 : 0, input, output);
        Entry(_groups, new GroupKey(group)).Add(1, error ? 1 : 0, input, output);
    }

    /// <summary>What <see cref="UsageTotals.Errors"/> counts: a status of 400 or more, or an error code (a stream broken after a 200).</summary>
    internal static bool IsError(int status, string? errorCode) => status >= 400 || errorCode is not null;

    /// <summary>
    /// Whether a row's tokens count. A failed first attempt never carries the answer's usage (the retry happens before
    /// the first byte), but the row is a copy of the call's: ignoring its tokens keeps a retried call's tokens counted
    /// once whatever it holds. The rollups count by the same rule, so their sums equal these.
    /// </summary>
    internal static bool IsAnswer(int? attempt) => attempt != 1;

    /// <summary>
    /// Counts already summed elsewhere (a rollup cell of one key version): added to the totals and the version, and to
    /// the key's group when grouped by provider key. Other groupings take theirs from <see cref="AddGroup"/>.
    /// </summary>
    public void AddVersion(string key, string? version, long calls, long errors, long input, long output)
    {
        _total.Add(calls, errors, input, output);
        Entry(_versions, (key, version)).Add(calls, errors, input, output);
        if (groupBy == UsageGroupBy.ProviderKey)
            Entry(_groups, new GroupKey(key)).Add(calls, errors, input, output);
    }

    /// <summary>Summed counts of one relay key or model (by <see cref="UsageGroupBy"/>): the group alone, the totals come from the versions.</summary>
    public void AddGroup(string? group, long calls, long errors, long input, long output)
    {
        if (groupBy == UsageGroupBy.ProviderKey)
            throw new InvalidOperationException("Grouped by provider key, the groups are the versions' keys.");
        Entry(_groups, new GroupKey(group)).Add(calls, errors, input, output);
    }

    /// <summary>Adds another tally's counts (of the same grouping) to this one.</summary>
    public void Merge(UsageTally other)
    {
        _total.Add(other._total);
        foreach (var (key, counts) in other._versions)
            Entry(_versions, key).Add(counts);
        foreach (var (key, counts) in other._groups)
            Entry(_groups, key).Add(counts);
    }

    public UsageTotals Totals => _total.ToTotals(new UsageTotals());

    public IReadOnlyList<UsageVersion> Versions =>
    [
        .. _versions
            .OrderBy(v => v.Key.Key, StringComparer.Ordinal)
            .ThenBy(v => v.Key.Version, StringComparer.Ordinal)
            .Select(v => v.Value.ToTotals(new UsageVersion(v.Key.Key, v.Key.Version))),
    ];

    public IReadOnlyList<UsageGroup> Groups =>
    [
        .. _groups
            .Select(g => g.Value.ToTotals(new UsageGroup(g.Key.Value)))
            .OrderByDescending(g => g.TotalTokens)
            .ThenByDescending(g => g.Calls)
            .ThenBy(g => g.Key, StringComparer.Ordinal),
    ];

    private static Counts Entry<TKey>(Dictionary<TKey, Counts> entries, TKey key) where TKey : notnull
    {
        if (!entries.TryGetValue(key, out var counts))
            entries[key] = counts = new Counts();
        return counts;
    }

    // A group value may be null (a row without a model); a dictionary key may not.
    private readonly record struct GroupKey(string? Value);

    private sealed class Counts
    {
        private long _calls;
        private long _errors;
        private long _input;
        private long _output;

        public void Add(long calls, long errors, long input, long output)
        {
            _calls += calls;
            _errors += errors;
            _input += input;
            _output += output;
        }

        public void Add(Counts other)
        {
            _calls += other._calls;
            _errors += other._errors;
            _input += other._input;
            _output += other._output;
        }

        public T ToTotals<T>(T line) where T : UsageTotals =>
            (T)((UsageTotals)line with { Calls = _calls, Errors = _errors, InputTokens = _input, OutputTokens = _output });
    }
}
