using System.Globalization;
using Azure.Data.Tables;

namespace FuncKeyOps.Anomalies.Rollups;

/// <summary>
/// The counts of one dimension value over one period: a row of the <c>rollups</c> table.
/// </summary>
/// <param name="ProviderKey">
/// The provider key the rows named, for <see cref="RollupDimension.Version"/>, <see cref="RollupDimension.RelayKey"/>
/// and <see cref="RollupDimension.Model"/> (null for rows refused before a key was chosen); always null for the others.
/// </param>
/// <param name="Value">The version, relay key id, model, tenant or source address; null for rows without one.</param>
internal sealed record RollupCell(RollupDimension Dimension, string? ProviderKey, string? Value, RollupCounts Counts)
{
    public string RowKey => RollupKeys.RowKey(Dimension, ProviderKey, Value);

    /// <summary>The columns <see cref="FromEntity"/> reads: queries ask for these alone.</summary>
    public static readonly IReadOnlyList<string> Columns =
    [
        "RowKey", nameof(ProviderKey), nameof(Value),
        nameof(RollupCounts.Calls), nameof(RollupCounts.Errors), nameof(RollupCounts.ServerErrors),
        nameof(RollupCounts.InputTokens), nameof(RollupCounts.OutputTokens), nameof(RollupCounts.CostUsd),
    ];

    public TableEntity ToEntity(string partitionKey)
    {
        var entity = new TableEntity(partitionKey, RowKey)
        {
            [nameof(RollupCounts.Calls)] = Counts.Calls,
            [nameof(RollupCounts.Errors)] = Counts.Errors,
            [nameof(RollupCounts.ServerErrors)] = Counts.ServerErrors,
            [nameof(RollupCounts.InputTokens)] = Counts.InputTokens,
            [nameof(RollupCounts.OutputTokens)] = Counts.OutputTokens,
            // Text, as the audit rows hold it: Table Storage has no decimal, and a double would not sum exactly.
            [nameof(RollupCounts.CostUsd)] = Counts.CostUsd.ToString(CultureInfo.InvariantCulture),
        };
        // An absent column reads back as null.
        if (ProviderKey is not null)
            entity[nameof(ProviderKey)] = ProviderKey;
        if (Value is not null)
            entity[nameof(Value)] = Value;
        return entity;
    }

    /// <summary>The cell a row holds; null for a row that is not a cell (an unknown dimension from a later version).</summary>
    public static RollupCell? FromEntity(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (!RollupKeys.TryDimension(entity.RowKey, out var dimension))
            return null;
        var counts = RollupCounts.Of(
            entity.GetInt64(nameof(RollupCounts.Calls)) ?? 0,
            entity.GetInt64(nameof(RollupCounts.Errors)) ?? 0,
            entity.GetInt64(nameof(RollupCounts.ServerErrors)) ?? 0,
            entity.GetInt64(nameof(RollupCounts.InputTokens)) ?? 0,
            entity.GetInt64(nameof(RollupCounts.OutputTokens)) ?? 0,
            entity.GetString(nameof(RollupCounts.CostUsd)) is { } cost ? decimal.Parse(cost, NumberStyles.Number, CultureInfo.InvariantCulture) : 0m);
        return new RollupCell(dimension, entity.GetString(nameof(ProviderKey)), entity.GetString(nameof(Value)), counts);
    }
}
