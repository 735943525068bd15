using FuncKeyOps.Rotation;
using FuncKeyOps.Secrets;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>
/// A crash after each write of each step (the runner's write hook throws once there), then the driver runs the same
/// step again: the rotation ends as an uninterrupted one does, and the provider made and revoked each key once.
/// </summary>
public class RotationCrashTests
{
    [Theory]
    [InlineData(RotationStrategy.Immediate)]
    [InlineData(RotationStrategy.BlueGreen)]
    [InlineData(RotationStrategy.Canary)]
    [InlineData(RotationStrategy.Emergency)]
    public async Task A_crash_after_any_write_then_a_rerun_reaches_the_same_end_state_with_no_second_create_or_revoke(RotationStrategy strategy)
    {
        await using var host = await RotationHost.StartAsync();
        var baselineKey = await host.RegisterKeyAsync();
        var writes = new List<string>();
        host.Runner.AfterWrite = (id, write) =>
        {
            if (id.KeyName == baselineKey)
                writes.Add(write);
        };
        var baselineRotation = await host.StartRotationAsync(baselineKey, strategy);
        Assert.Equal(RotationStatus.Succeeded, await host.DriveAsync(baselineRotation));
        var expected = await EndStateAsync(host, baselineRotation);
        Assert.Contains("row", writes);

        for (var crashAt = 0; crashAt < writes.Count; crashAt++)
        {
            var key = await host.RegisterKeyAsync();
            var seen = 0;
            string? crashedAfter = null;
            var at = crashAt;
            host.Runner.AfterWrite = (id, write) =>
            {
                if (id.KeyName == key && crashedAfter is null && seen++ == at)
                {
                    crashedAfter = write;
                    throw new SimulatedCrash(write);
                }
            };
            var rotation = await host.StartRotationAsync(key, strategy);

            var status = await host.DriveAsync(rotation);

            Assert.Equal(writes[crashAt], crashedAfter);
            Assert.True(status == RotationStatus.Succeeded, $"crash after write {crashAt} ({crashedAfter}): {status}");
            Assert.Equal(expected, await EndStateAsync(host, rotation));
            Assert.Equal((1, 1), (host.Connector.Creates[key], host.Connector.Revokes[key]));
        }
    }

    /// <summary>The end state by role (old, new), so two rotations of two keys compare.</summary>
    internal static async Task<string> EndStateAsync(RotationHost host, RotationId rotation)
    {
        var record = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
        var weights = (await host.Registry.GetAsync(rotation.KeyName))!.Weights;
        var versions = await host.VersionsAsync(rotation.KeyName);
        string Role(string version) => version == record.OldVersion ? "old" : version == record.NewVersion ? "new" : "other";
        string Describe(SecretVersionInfo v) => $"{Role(v.Version)}:{v.State}:{v.Enabled}:{weights.GetValueOrDefault(v.Version)}";
        return string.Join(" | ",
            record.Status.ToString(),
            string.Join(",", versions.Values.Select(Describe).Order(StringComparer.Ordinal)),
            string.Join(",", record.History.Select(h => h.Step)),
            string.Join(",", host.Alerts.For(rotation.KeyName).Select(a => a.Kind)));
    }
}
