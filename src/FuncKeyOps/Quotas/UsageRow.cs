using Azure;
using Azure.Data.Tables;

namespace FuncKeyOps.Quotas;

/// <summary>A <c>usage</c> table row: PartitionKey = <see cref="QuotaSubject.Id"/> (relay key id or <c>pk:{name}</c>), RowKey = window (<c>d20261123</c>, <c>m202611</c>, <c>n05</c>).</summary>
internal sealed class UsageRow : ITableEntity
{
    // Enough to cover the writes of all instances between a lost response and its re-read; ~16 chars each.
    private const int MergesKept = 16;

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public long Tokens { get; set; }

    /// <summary>Calls recorded (day and month rows) or requests admitted (minute rows).</summary>
    public long Requests { get; set; }

    /// <summary>Tokens of the latest merges, oldest first, space-separated.</summary>
    public string? Merges { get; set; }

    /// <summary>Minute rows: the minute (<see cref="UsageWindow.Stamp"/>) the counts belong to.</summary>
    public string? Window { get; set; }

    /// <summary>Whether the row holds <paramref name="stamp"/>'s counts; a day or month row (no stamp) always does.</summary>
    public bool Holds(string? stamp) => stamp is null || Window == stamp;

    /// <summary>A ring row still holding an earlier minute starts over for <paramref name="stamp"/>.</summary>
    public void TakeOver(string stamp)
    {
        Window = stamp;
        Tokens = 0;
        Requests = 0;
        Merges = null;
    }

    public UsageTotals ToTotals() => new(Tokens, Requests);

    public bool HasMerge(string token) => Merges is not null && Merges.Split(' ').Contains(token, StringComparer.Ordinal);

    public void Add(MergeAttempt attempt)
    {
        Tokens += attempt.Delta.Tokens;
        Requests += attempt.Delta.Requests;
        var kept = (Merges?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? []).TakeLast(MergesKept - 1);
        Merges = string.Join(' ', kept.Append(attempt.Token));
    }
}
