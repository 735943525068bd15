using System.Text.Json;
using Azure.Data.Tables;

namespace FuncKeyOps.Rotation;

/// <summary>
/// Maps a <see cref="RotationRecord"/> to its row. Written column by column with Merge so the step runner never
/// touches the Server driver's lease columns (<see cref="RotationColumns"/>).
/// </summary>
internal static class RotationRows
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private const string Plan = "Plan";
    private const string Strategy = "Strategy";
    private const string Reason = "Reason";
    private const string Trigger = "Trigger";
    private const string OldVersion = "OldVersion";
    private const string NewVersion = "NewVersion";
    private const string PriorVersions = "PriorVersions";
    private const string History = "History";
    private const string WindowStart = "WindowStart";
    private const string WindowEnd = "WindowEnd";
    private const string StartedAt = "StartedAt";
    private const string FinishedAt = "FinishedAt";

    /// <summary>Every column the library owns, for the row's first write.</summary>
    public static TableEntity ToNewEntity(RotationRecord r)
    {
        var entity = ToProgressEntity(r);
        entity[Plan] = r.Plan.ToJson();
        entity[Strategy] = r.Strategy.ToName();
        entity[Reason] = r.Reason;
        entity[Trigger] = r.Trigger;
        entity[PriorVersions] = JsonSerializer.Serialize(r.PriorVersions, Json);
        entity[StartedAt] = r.StartedAt;
        entity[RotationColumns.AbortRequested] = r.AbortRequested;
        return entity;
    }

    /// <summary>The columns a step changes (never the lease, never the abort flag an admin call sets).</summary>
    public static TableEntity ToProgressEntity(RotationRecord r)
    {
        var entity = new TableEntity(r.KeyName, r.Id)
        {
            [RotationColumns.Status] = r.Status.ToString(),
            [RotationColumns.StepIndex] = r.StepIndex,
            [RotationColumns.NextDue] = r.NextDue,
            // Always written (empty when none), so a step that ends the wait clears it with the same Merge.
            [RotationColumns.WaitingFor] = r.WaitingFor ?? "",
            [History] = JsonSerializer.Serialize(r.History, Json),
        };
        // Null columns are left out of a Merge; these are only ever set once, so absent means "not yet".
        if (r.OldVersion is not null)
            entity[OldVersion] = r.OldVersion;
        if (r.NewVersion is not null)
            entity[NewVersion] = r.NewVersion;
        if (r.WindowStart is { } start)
            entity[WindowStart] = start;
        if (r.WindowEnd is { } end)
            entity[WindowEnd] = end;
        if (r.FinishedAt is { } finished)
            entity[FinishedAt] = finished;
        return entity;
    }

    public static RotationRecord FromEntity(TableEntity e)
    {
        RotationStrategies.TryParse(e.GetString(Strategy), out var strategy);
        return new RotationRecord
        {
            KeyName = e.PartitionKey,
            Id = e.RowKey,
            Status = Enum.TryParse<RotationStatus>(e.GetString(RotationColumns.Status), out var status) ? status : RotationStatus.Running,
            StepIndex = e.GetInt32(RotationColumns.StepIndex) ?? 0,
            NextDue = e.GetDateTimeOffset(RotationColumns.NextDue) ?? DateTimeOffset.MinValue,
            WaitingFor = e.GetString(RotationColumns.WaitingFor) is { Length: > 0 } waitingFor ? waitingFor : null,
            AbortRequested = e.GetBoolean(RotationColumns.AbortRequested) ?? false,
            Plan = RotationPlan.FromJson(e.GetString(Plan) ?? "[]"),
            Strategy = strategy,
            Reason = e.GetString(Reason) ?? "",
            Trigger = e.GetString(Trigger) ?? "admin",
            OldVersion = e.GetString(OldVersion),
            NewVersion = e.GetString(NewVersion),
            PriorVersions = JsonSerializer.Deserialize<List<string>>(e.GetString(PriorVersions) ?? "[]", Json) ?? [],
            History = JsonSerializer.Deserialize<List<RotationHistoryEntry>>(e.GetString(History) ?? "[]", Json) ?? [],
            WindowStart = e.GetDateTimeOffset(WindowStart),
            WindowEnd = e.GetDateTimeOffset(WindowEnd),
            StartedAt = e.GetDateTimeOffset(StartedAt) ?? default,
            FinishedAt = e.GetDateTimeOffset(FinishedAt),
            ETag = e.ETag,
            LeaseFence = e.GetInt64(RotationColumns.LeaseFence) ?? 0,
        };
    }
}
