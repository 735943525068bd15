using System.Text.Json;
using Azure.Data.Tables;
using FuncKeyOps.Rotation;
using FuncKeyOps.Secrets;
using FuncKeyOps.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>
/// What must hold after every step (DESIGN.md, Rotation): all routing weight on validated, unrevoked versions tagged
/// active; nothing revoked before its successor is validated and carries 100 % (except an emergency's containment);
/// a version tagged previous or revoked carries no weight; and running the step again changes nothing and answers
/// where the rotation is.
/// </summary>
internal static class RotationInvariants
{
    public static async Task CheckAsync(RotationHost host, RotationId rotation, int index, RotationStepResult result)
    {
        var record = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
        var config = (await host.Registry.GetAsync(rotation.KeyName))!;
        var versions = await host.VersionsAsync(config.SecretName);
        var where = $"after step {index} of {record.Strategy.ToName()} rotation {rotation}";
        var emergencyWindow = record.Strategy == RotationStrategy.Emergency && record.WindowStart is not null && record.WindowEnd is null;
        var serving = config.Weights.Where(w => w.Value > 0).ToList();

        if (!(emergencyWindow && serving.Count == 0) && !(record.Status == RotationStatus.Failed && record.Strategy == RotationStrategy.Emergency && serving.Count == 0))
            Assert.True(serving.Sum(w => w.Value) == 100, $"{where}: the weights sum to {serving.Sum(w => w.Value)}");
        var newValidated = record.History.Any(h => h.Step == "validate" && h.Status != RotationStatus.Failed);
        foreach (var (version, _) in serving)
        {
            var info = versions[version];
            Assert.True(info.Enabled, $"{where}: {version} carries weight but is disabled");
            Assert.True(info.State == SecretVersionState.Active, $"{where}: {version} carries weight but is tagged {info.State}");
            Assert.True(version == record.OldVersion || (version == record.NewVersion && newValidated), $"{where}: {version} carries weight but was never validated");
        }
        foreach (var info in versions.Values.Where(v => v.State is SecretVersionState.Previous or SecretVersionState.Revoked))
            Assert.True(config.Weights.GetValueOrDefault(info.Version) == 0 || (emergencyWindow && info.Version == record.OldVersion),
                $"{where}: {info.Version} is tagged {info.State} but carries weight");
        foreach (var info in versions.Values.Where(v => v.State == SecretVersionState.Revoked))
            Assert.False(info.Enabled, $"{where}: {info.Version} is tagged revoked but enabled");
        if (record.OldVersion is { } old && versions[old].State == SecretVersionState.Revoked && record.Strategy != RotationStrategy.Emergency)
            Assert.True(newValidated && config.Weights.GetValueOrDefault(record.NewVersion!) == 100,
                $"{where}: the old version was revoked before its successor was validated and at 100 %");

        // The same index again: the recorded result, and not one write anywhere. A step that waits (a poll) asks the
        // connector again, which is what polling is; it still writes nothing.
        var polls = result.NextIndex == index;
        var before = await SnapshotAsync(host, rotation, config.SecretName, polls);
        var again = await host.Runner.RunStepAsync(rotation, index, CancellationToken.None);
        var after = await SnapshotAsync(host, rotation, config.SecretName, polls);
        Assert.Equal(before, after);
        // Where the rotation is, with no more of its wait left than the step asked for (the clock may have moved on);
        // if another driver (a take-over) moved the row on meanwhile, somewhere between where it was and where it is.
        if (!polls)
        {
            var now = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
            var movedOn = !result.IsFinal && (now.IsFinal || now.StepIndex != result.NextIndex);
            Assert.True(movedOn
                ? again.IsFinal ? now.IsFinal : again.NextIndex >= result.NextIndex && (now.IsFinal || again.NextIndex <= now.StepIndex)
                : (again.Status, again.NextIndex) == (result.Status, result.NextIndex) && again.Wait <= result.Wait,
                $"{where}: a re-run answered {again}, the run {result}");
        }
    }

    private static async Task<string> SnapshotAsync(RotationHost host, RotationId rotation, string secretName, bool polls)
    {
        var tables = host.Services.GetRequiredService<TableStore>();
        var rotations = await tables.GetTableAsync(TableNames.Rotations);
        var providerKeys = await tables.GetTableAsync(TableNames.ProviderKeys);
        var rows = new List<string>();
        await foreach (var row in rotations.QueryAsync<TableEntity>(e => e.PartitionKey == rotation.KeyName))
            rows.Add(polls ? $"{row.RowKey} {Columns(row)}" : $"{row.RowKey} {row.ETag}");
        var keyRow = (await providerKeys.GetEntityAsync<TableEntity>(TableKeys.ProviderPartition, rotation.KeyName)).Value;
        var versions = (await host.Secrets.ListVersionsAsync(secretName))
            .Select(v => $"{v.Version} {v.Enabled} {string.Join(",", v.Tags.OrderBy(t => t.Key).Select(t => $"{t.Key}={t.Value}"))}");
        return JsonSerializer.Serialize(new
        {
            rows,
            key = keyRow.ETag.ToString(),
            versions,
            calls = polls ? 0 : host.Connector.Calls.GetValueOrDefault(rotation.KeyName),
            // The start alert is the start call's, published after the rotation is handed to its driver (item 17):
            // it may land while the first steps run, so only the steps' own alerts say whether a re-run changed something.
            alerts = host.Alerts.Alerts.Count(a => a.Kind != RotationAlerts.Started),
        });
    }

    // A poll re-run once its wait is over (a loaded machine takes longer than RecheckInterval between the run and the
    // re-run) polls again and records its next wait, as a driver's next run would: the row's ETag and NextDue move, and
    // nothing else may.
    private static string Columns(TableEntity row) => string.Join(",", row
        .Where(c => c.Key is not ("odata.etag" or "Timestamp" or RotationColumns.NextDue))
        .OrderBy(c => c.Key, StringComparer.Ordinal)
        .Select(c => $"{c.Key}={c.Value}"));
}
