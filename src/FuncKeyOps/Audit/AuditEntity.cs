using System.Globalization;
using System.Text;
using Azure.Data.Tables;
using FuncKeyOps.Logging;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Audit;

/// <summary>
/// Maps an <see cref="AuditRecord"/> to its table row and back. The row holds the record's fields and nothing
/// else; null fields are omitted. Property names are the record's, so filters read like the record.
/// </summary>
public static class AuditEntity
{
    // Bounded so that 100 rows always fit a 4 MiB transaction, and a hostile client cannot make a row the
    // service rejects (a rejected row would otherwise hold up its whole partition's batch).
    private const int MaxPathLength = 1024;
    private const int MaxUserAgentLength = 512;
    private const int MaxValueLength = 256;

    /// <summary>The row for <paramref name="record"/> in table <see cref="TableNames.Audit"/> of its time.</summary>
    public static TableEntity ToEntity(AuditRecord record, int shards, SecretRedactor? redactor = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        var entity = new TableEntity(
            TableKeys.AuditPartition(record.Time, AuditKeys.Shard(record.RequestId, shards)),
            AuditKeys.ToRowKey(record.RequestId))
        {
            [nameof(AuditRecord.Time)] = record.Time.ToUniversalTime(),
            [nameof(AuditRecord.Provider)] = Bound(record.Provider, MaxValueLength),
            [nameof(AuditRecord.Method)] = Bound(record.Method, MaxValueLength),
            [nameof(AuditRecord.Path)] = Bound(Redact(WithoutQuery(record.Path), redactor), MaxPathLength),
            [nameof(AuditRecord.Status)] = record.Status,
            [nameof(AuditRecord.LatencyMs)] = record.LatencyMs,
            [nameof(AuditRecord.RequestBytes)] = record.RequestBytes,
            [nameof(AuditRecord.Streamed)] = record.Streamed,
        };
        SetIfPresent(entity, nameof(AuditRecord.Tenant), record.Tenant);
        SetIfPresent(entity, nameof(AuditRecord.RelayKeyId), record.RelayKeyId);
        SetIfPresent(entity, nameof(AuditRecord.ProviderKeyName), record.ProviderKeyName);
        SetIfPresent(entity, nameof(AuditRecord.ProviderKeyVersion), record.ProviderKeyVersion);
        SetIfPresent(entity, nameof(AuditRecord.Model), Redact(record.Model, redactor));
        SetIfPresent(entity, nameof(AuditRecord.SourceIp), record.SourceIp);
        SetIfPresent(entity, nameof(AuditRecord.UserAgent), Redact(record.UserAgent, redactor), MaxUserAgentLength);
        SetIfPresent(entity, nameof(AuditRecord.BodySha256), record.BodySha256);
        SetIfPresent(entity, nameof(AuditRecord.ErrorCode), record.ErrorCode);
        if (record.UpstreamStatus is { } upstreamStatus)
            entity[nameof(AuditRecord.UpstreamStatus)] = upstreamStatus;
        if (record.Attempt is { } attempt)
            entity[nameof(AuditRecord.Attempt)] = attempt;
        if (record.InputTokens is { } input)
            entity[nameof(AuditRecord.InputTokens)] = input;
        if (record.OutputTokens is { } output)
            entity[nameof(AuditRecord.OutputTokens)] = output;
        if (record.TokensEstimated)
            entity[nameof(AuditRecord.TokensEstimated)] = true;
        // Table Storage has no decimal type; the invariant string keeps the estimate exact.
        if (record.CostEstimateUsd is { } cost)
            entity[nameof(AuditRecord.CostEstimateUsd)] = cost.ToString(CultureInfo.InvariantCulture);
        return entity;
    }

    public static AuditRecord ToRecord(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        return new AuditRecord
        {
            RequestId = AuditKeys.FromRowKey(entity.RowKey),
            Time = entity.GetDateTimeOffset(nameof(AuditRecord.Time)) ?? default,
            Tenant = entity.GetString(nameof(AuditRecord.Tenant)),
            RelayKeyId = entity.GetString(nameof(AuditRecord.RelayKeyId)),
            Provider = entity.GetString(nameof(AuditRecord.Provider)) ?? "",
            ProviderKeyName = entity.GetString(nameof(AuditRecord.ProviderKeyName)),
            ProviderKeyVersion = entity.GetString(nameof(AuditRecord.ProviderKeyVersion)),
            Model = entity.GetString(nameof(AuditRecord.Model)),
            Method = entity.GetString(nameof(AuditRecord.Method)) ?? "",
            Path = entity.GetString(nameof(AuditRecord.Path)) ?? "",
            Status = entity.GetInt32(nameof(AuditRecord.Status)) ?? 0,
            LatencyMs = entity.GetDouble(nameof(AuditRecord.LatencyMs)) ?? 0,
            InputTokens = entity.GetInt64(nameof(AuditRecord.InputTokens)),
            OutputTokens = entity.GetInt64(nameof(AuditRecord.OutputTokens)),
            TokensEstimated = entity.GetBoolean(nameof(AuditRecord.TokensEstimated)) ?? false,
            CostEstimateUsd = entity.GetString(nameof(AuditRecord.CostEstimateUsd)) is { } cost
                ? decimal.Parse(cost, NumberStyles.Number, CultureInfo.InvariantCulture)
                : null,
            SourceIp = entity.GetString(nameof(AuditRecord.SourceIp)),
            UserAgent = entity.GetString(nameof(AuditRecord.UserAgent)),
            BodySha256 = entity.GetString(nameof(AuditRecord.BodySha256)),
            RequestBytes = entity.GetInt64(nameof(AuditRecord.RequestBytes)) ?? 0,
            Streamed = entity.GetBoolean(nameof(AuditRecord.Streamed)) ?? false,
            ErrorCode = entity.GetString(nameof(AuditRecord.ErrorCode)),
            UpstreamStatus = entity.GetInt32(nameof(AuditRecord.UpstreamStatus)),
            Attempt = entity.GetInt32(nameof(AuditRecord.Attempt)),
        };
    }

    private static void SetIfPresent(TableEntity entity, string name, string? value, int maxLength = MaxValueLength)
    {
        if (value is not null)
            entity[name] = Bound(value, maxLength);
    }

    // A Gemini-style client may put its relay key in the query (?key=...): the query never reaches a row.
    private static string WithoutQuery(string path)
    {
        var end = path.AsSpan().IndexOfAny('?', '#');
        return end < 0 ? path : path[..end];
    }

    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    private static string? Redact(string? text, SecretRedactor? redactor) =>
        text is null || redactor is null ? text : redactor.Redact(text);

    // Also replaces lone surrogates (JSON bodies can carry them): the SDK's JSON writer refuses them, and a row
    // that can never be serialised would be retried forever.
    private static string Bound(string value, int maxLength)
    {
        if (value.Length > maxLength)
            value = value[..(char.IsHighSurrogate(value[maxLength - 1]) ? maxLength - 1 : maxLength)];
        return value.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF')
            ? Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(value))
            : value;
    }
}
