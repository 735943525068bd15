using System.Text.Json;
using Azure.Data.Tables;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Anomalies.Findings;

/// <summary>
/// A <see cref="Finding"/> as its row of the <c>anomalies</c> table: PartitionKey the window's day (<c>yyyyMMdd</c>),
/// RowKey its id (which starts with the window, so a day's rows sort by window). Enums are stored by name, so the
/// findings API filters them on the service.
/// </summary>
internal static class FindingRows
{
    public const string Detector = nameof(Finding.Detector);
    public const string Subject = nameof(Finding.Subject);
    public const string Status = nameof(Finding.Status);
    public const string ActionState = nameof(Finding.ActionState);
    public const string Alerted = nameof(Finding.Alerted);

    /// <summary>yyyyMMddHHmm: the window part every id starts with.</summary>
    public const int WindowIdLength = 12;
    private const int MaxIdLength = 128;

    public static string PartitionOf(DateTimeOffset windowStart) => TableKeys.AnomalyPartition(windowStart);

    /// <summary>
    /// The partition of an id <see cref="FindingId"/> could have made, or false for anything else (a pasted key, a
    /// character Table Storage refuses in a key): such an id is unknown without a storage call.
    /// </summary>
    public static bool TryPartitionOf(string id, out string partition)
    {
        partition = "";
        if (id.Length is <= WindowIdLength + 1 or > MaxIdLength || id[WindowIdLength] != '-'
            || !SweepWindow.TryParse(id[..WindowIdLength], out var window)
            || id.AsSpan(WindowIdLength).ContainsAnyExcept("abcdefghijklmnopqrstuvwxyz0123456789_-"))
            return false;
        partition = PartitionOf(window.Start);
        return true;
    }

    public static TableEntity ToEntity(Finding f)
    {
        var entity = new TableEntity(PartitionOf(f.WindowStart), f.Id)
        {
            [Detector] = f.Detector,
            [Subject] = f.Subject,
            [nameof(Finding.WindowStart)] = f.WindowStart.ToUniversalTime(),
            [nameof(Finding.WindowEnd)] = f.WindowEnd.ToUniversalTime(),
            [nameof(Finding.Tenant)] = f.Tenant,
            [nameof(Finding.Observed)] = f.Observed,
            [nameof(Finding.Baseline)] = f.Baseline,
            [nameof(Finding.Threshold)] = f.Threshold,
            [nameof(Finding.Severity)] = f.Severity.ToString(),
            [nameof(Finding.Summary)] = f.Summary,
            [nameof(Finding.Action)] = f.Action.ToString(),
            [ActionState] = f.ActionState.ToString(),
            [nameof(Finding.ActionOutcome)] = f.ActionOutcome,
            [nameof(Finding.ActionAttempts)] = f.ActionAttempts,
            [nameof(Finding.ActionStartedAt)] = f.ActionStartedAt?.ToUniversalTime(),
            [nameof(Finding.ActionAttemptedAt)] = f.ActionAttemptedAt?.ToUniversalTime(),
            [Alerted] = f.Alerted,
            [Status] = f.Status.ToString(),
            [nameof(Finding.ChangedBy)] = f.ChangedBy,
            [nameof(Finding.ChangedAt)] = f.ChangedAt?.ToUniversalTime(),
            [nameof(Finding.FoundAt)] = f.FoundAt.ToUniversalTime(),
            [nameof(Finding.Details)] = f.Details is null ? null : JsonSerializer.Serialize(f.Details),
        };
        return entity;
    }

    public static Finding ToFinding(TableEntity e) => new()
    {
        Id = e.RowKey,
        Detector = e.GetString(Detector) ?? "",
        Subject = e.GetString(Subject) ?? "",
        WindowStart = e.GetDateTimeOffset(nameof(Finding.WindowStart)) ?? default,
        WindowEnd = e.GetDateTimeOffset(nameof(Finding.WindowEnd)) ?? default,
        Tenant = e.GetString(nameof(Finding.Tenant)),
        Observed = e.GetDouble(nameof(Finding.Observed)) ?? 0,
        Baseline = e.GetDouble(nameof(Finding.Baseline)),
        Threshold = e.GetDouble(nameof(Finding.Threshold)) ?? 0,
        Severity = Parse(e.GetString(nameof(Finding.Severity)), FindingSeverity.High),
        Summary = e.GetString(nameof(Finding.Summary)) ?? "",
        Action = Parse(e.GetString(nameof(Finding.Action)), FindingAction.Alert),
        ActionState = Parse(e.GetString(ActionState), FindingActionState.Pending),
        ActionOutcome = e.GetString(nameof(Finding.ActionOutcome)),
        ActionAttempts = e.GetInt32(nameof(Finding.ActionAttempts)) ?? 0,
        ActionStartedAt = e.GetDateTimeOffset(nameof(Finding.ActionStartedAt)),
        ActionAttemptedAt = e.GetDateTimeOffset(nameof(Finding.ActionAttemptedAt)),
        Alerted = e.GetBoolean(Alerted) ?? false,
        Status = Parse(e.GetString(Status), FindingStatus.Open),
        ChangedBy = e.GetString(nameof(Finding.ChangedBy)),
        ChangedAt = e.GetDateTimeOffset(nameof(Finding.ChangedAt)),
        FoundAt = e.GetDateTimeOffset(nameof(Finding.FoundAt)) ?? default,
        Details = e.GetString(nameof(Finding.Details)) is { } details
            ? JsonSerializer.Deserialize<Dictionary<string, string>>(details)
            : null,
    };

    // A value this version does not know (written by a newer one) reads as the most cautious one rather than failing the list.
    private static T Parse<T>(string? name, T fallback) where T : struct, Enum =>
        Enum.TryParse<T>(name, ignoreCase: false, out var value) && Enum.IsDefined(value) ? value : fallback;
}
