using FuncKeyOps.Rotation;
using FuncKeyOps.Telemetry;
using FuncKeyOps.Tests.Rotation;

namespace FuncKeyOps.Tests.Telemetry;

public class RotationTelemetryTests
{
    [Fact]
    public async Task A_rotation_step_is_one_span_naming_the_rotation_the_step_and_its_result()
    {
        var telemetry = new TelemetryCapture();
        await using var host = await RotationHost.StartAsync(configure: telemetry.AddTo);
        var keyName = await host.RegisterKeyAsync();
        var rotation = await host.StartRotationAsync(keyName, RotationStrategy.Emergency);

        var result = await host.Runner.RunStepAsync(rotation, 0, CancellationToken.None);

        var span = Assert.Single(telemetry.SpansTagged(RotationTelemetry.RotationId, rotation.Id));
        var record = await host.Store.GetAsync(rotation.KeyName, rotation.Id, CancellationToken.None);
        var kind = record!.Plan.Steps[0].Kind.ToString();
        Assert.Equal($"rotation step {kind}", span.DisplayName);
        Assert.Equal(keyName, span.GetTagItem(RelayTelemetry.ProviderKeyName));
        Assert.Equal(0, span.GetTagItem(RotationTelemetry.StepIndex));
        Assert.Equal(kind, span.GetTagItem(RotationTelemetry.StepKind));
        Assert.Equal(result.Status.ToString(), span.GetTagItem(RotationTelemetry.Status));
        Assert.Equal(result.NextIndex, span.GetTagItem(RotationTelemetry.NextIndex));
    }
}
