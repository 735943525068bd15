using Azure.Data.Tables;
using FuncKeyOps.Rotation;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Tests.Rotation.Server;

/// <summary>Rotations rows as the step runner leaves them, written straight to the table.</summary>
internal static class RotationRows
{
    public static async Task<RotationId> InsertAsync(TableStore tables, int stepIndex, DateTimeOffset nextDue,
        RotationStatus status = RotationStatus.Running, bool abortRequested = false)
    {
        var rotation = new RotationId("key-" + Guid.NewGuid().ToString("N")[..8], Guid.NewGuid().ToString("N"));
        var table = await tables.GetTableAsync(TableNames.Rotations);
        await table.AddEntityAsync(new TableEntity(rotation.KeyName, rotation.Id)
        {
            [RotationColumns.Status] = status.ToString(),
            [RotationColumns.StepIndex] = stepIndex,
            [RotationColumns.NextDue] = nextDue,
            [RotationColumns.AbortRequested] = abortRequested,
        });
        return rotation;
    }

    /// <summary>A row of the same table that is not a rotation (a per-key marker): no driver columns.</summary>
    public static async Task InsertMarkerAsync(TableStore tables, string keyName)
    {
        var table = await tables.GetTableAsync(TableNames.Rotations);
        await table.AddEntityAsync(new TableEntity(keyName, "current") { ["RotationId"] = "x" });
    }

    public static async Task<TableEntity> ReadAsync(TableStore tables, RotationId rotation)
    {
        var table = await tables.GetTableAsync(TableNames.Rotations);
        return (await table.GetEntityAsync<TableEntity>(rotation.KeyName, rotation.Id)).Value;
    }
}
