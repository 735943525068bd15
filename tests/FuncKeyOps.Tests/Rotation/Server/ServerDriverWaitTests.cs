using System.Net;
using System.Text.Json;
using FuncKeyOps.Rotation;
using FuncKeyOps.Tests.ProviderKeys;
using static FuncKeyOps.Tests.Rotation.Server.ServerRotationClock;

namespace FuncKeyOps.Tests.Rotation.Server;

/// <summary>
/// A rotation whose step waits on something outside (here the manual connector's staged value) with the Server host's
/// own driver: the wait goes on the row, the driver leaves the row until it is due, and other rotations run meanwhile.
/// </summary>
public class ServerDriverWaitTests
{
    [Fact]
    public async Task An_emergency_rotation_completes_while_another_keys_rotation_waits_for_a_staged_value_which_the_row_and_the_admin_api_show()
    {
        await using var host = await RotationHost.StartAsync(Settings(), serverDriver: true);
        var waiting = await host.RegisterKeyAsync(connector: "manual");
        var compromised = await host.RegisterKeyAsync();
        var waitingRotation = await StartAsync(host, waiting, RotationStrategy.Immediate);
        var started = host.Time.GetUtcNow();
        // The wait is on the row before the emergency starts: else the emergency may finish before the other's first step runs.
        await AdvanceUntilAsync(host, host.ServerDriver, async () => (await host.Store.GetAsync(waiting, waitingRotation.Id))!.WaitingFor is not null);

        var emergency = await StartAsync(host, compromised, RotationStrategy.Emergency);
        await AdvanceUntilAsync(host, host.ServerDriver, () => FinishedAsync(host, emergency));

        Assert.Equal(RotationStatus.Succeeded, (await host.Store.GetAsync(compromised, emergency.Id))!.Status);
        var record = (await host.Store.GetAsync(waiting, waitingRotation.Id))!;
        Assert.Equal((RotationStatus.Running, 0), (record.Status, record.StepIndex));
        // Asked the vault once, then left alone until the recheck (a minute on a clock that moved a few seconds).
        Assert.Single(host.CheckedRunner.Steps, s => s.Rotation == waitingRotation);
        Assert.True(record.NextDue >= started + TimeSpan.FromMinutes(1), $"due {record.NextDue:O}, started {started:O}");
        Assert.Contains("no value was staged", record.WaitingFor);

        var (response, body) = await ProviderKeyCalls.AdminAsync(host.Relay, HttpMethod.Get, $"rotations/{waiting}/{waitingRotation.Id}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("no value was staged", body.GetProperty("waitingFor").GetString());
        Assert.Equal(record.NextDue, body.GetProperty("nextDue").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, (await ProviderKeyCalls.AdminAsync(host.Relay, HttpMethod.Get, $"rotations/{compromised}/{emergency.Id}"))
            .Body.GetProperty("waitingFor").ValueKind);
    }
}
