using System.Globalization;
using Azure.Data.Tables;
using FuncKeyOps.Audit;

namespace FuncKeyOps.Anomalies;

/// <summary>
/// The columns of an audit row that the sweep reads (its projection: never the path, user agent or body digest).
/// Every detector and the rollups read these, from one pass over the window.
/// </summary>
public readonly record struct SweepRow
{
    public DateTimeOffset Time { get; init; }
    public string? Tenant { get; init; }
    public string? RelayKeyId { get; init; }
    public string Provider { get; init; }
    public string? ProviderKeyName { get; init; }
    public string? ProviderKeyVersion { get; init; }
    public string? Model { get; init; }
    public int Status { get; init; }
    public long? InputTokens { get; init; }
    public long? OutputTokens { get; init; }
    public bool TokensEstimated { get; init; }
    public decimal? CostEstimateUsd { get; init; }
    public string? SourceIp { get; init; }
    public string? ErrorCode { get; init; }
    public int? UpstreamStatus { get; init; }
    public int? Attempt { get; init; }

    /// <summary>
    /// The row of an attempt that failed before another attempt answered the client (<see cref="AuditRecord.Attempt"/>:
    /// its request id is the call's plus <c>.{attempt}</c>). It counts for its provider key version, not as a call of
    /// its relay key: the client saw only the answer of the call's own row.
    /// </summary>
    public bool IsFailedAttempt { get; init; }

    /// <summary>The columns asked of the table service.</summary>
    public static readonly IReadOnlyList<string> Columns =
    [
        nameof(AuditRecord.Time), nameof(AuditRecord.Tenant), nameof(AuditRecord.RelayKeyId), nameof(AuditRecord.Provider),
        nameof(AuditRecord.ProviderKeyName), nameof(AuditRecord.ProviderKeyVersion), nameof(AuditRecord.Model), nameof(AuditRecord.Status),
        nameof(AuditRecord.InputTokens), nameof(AuditRecord.OutputTokens), nameof(AuditRecord.TokensEstimated), nameof(AuditRecord.CostEstimateUsd),
        nameof(AuditRecord.SourceIp), nameof(AuditRecord.ErrorCode), nameof(AuditRecord.UpstreamStatus), nameof(AuditRecord.Attempt),
        // The request id, for IsFailedAttempt only: a projection leaves out the keys it does not name.
        nameof(TableEntity.RowKey),
    ];

    public static SweepRow From(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        // Read straight off the entity rather than through AuditEntity.ToRecord: the sweep reads every row of a window.
        var attempt = entity.GetInt32(nameof(AuditRecord.Attempt));
        return new SweepRow
        {
            Time = entity.GetDateTimeOffset(nameof(AuditRecord.Time)) ?? default,
            Tenant = entity.GetString(nameof(AuditRecord.Tenant)),
            RelayKeyId = entity.GetString(nameof(AuditRecord.RelayKeyId)),
            Provider = entity.GetString(nameof(AuditRecord.Provider)) ?? "",
            ProviderKeyName = entity.GetString(nameof(AuditRecord.ProviderKeyName)),
            ProviderKeyVersion = entity.GetString(nameof(AuditRecord.ProviderKeyVersion)),
            Model = entity.GetString(nameof(AuditRecord.Model)),
            Status = entity.GetInt32(nameof(AuditRecord.Status)) ?? 0,
            InputTokens = entity.GetInt64(nameof(AuditRecord.InputTokens)),
            OutputTokens = entity.GetInt64(nameof(AuditRecord.OutputTokens)),
            TokensEstimated = entity.GetBoolean(nameof(AuditRecord.TokensEstimated)) ?? false,
            CostEstimateUsd = entity.GetString(nameof(AuditRecord.CostEstimateUsd)) is { } cost
                ? decimal.Parse(cost, NumberStyles.Number, CultureInfo.InvariantCulture)
                : null,
            SourceIp = entity.GetString(nameof(AuditRecord.SourceIp)),
            ErrorCode = entity.GetString(nameof(AuditRecord.ErrorCode)),
            UpstreamStatus = entity.GetInt32(nameof(AuditRecord.UpstreamStatus)),
            Attempt = attempt,
            IsFailedAttempt = attempt is { } number && entity.RowKey is { } rowKey
                && rowKey.EndsWith(string.Create(CultureInfo.InvariantCulture, $".{number}"), StringComparison.Ordinal),
        };
    }
}
