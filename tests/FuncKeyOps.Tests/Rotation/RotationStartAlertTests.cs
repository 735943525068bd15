using FuncKeyOps.Rotation;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>The start alert says when a <c>holds</c> override replaced the plan's holds and grace, and by how much.</summary>
public class RotationStartAlertTests
{
    [Fact]
    public async Task The_start_alert_names_a_holds_override_and_says_nothing_of_one_without_it()
    {
        await using var host = await RotationHost.StartAsync();
        var drilled = await host.RegisterKeyAsync();
        var plain = await host.RegisterKeyAsync();

        await host.StartRotationAsync(drilled, RotationStrategy.Canary, TimeSpan.FromSeconds(1));
        await host.StartRotationAsync(plain, RotationStrategy.Canary);

        var overridden = Assert.Single(host.Alerts.For(drilled), a => a.Kind == "rotation.started");
        Assert.Contains("holds overridden", overridden.Message);
        Assert.Contains("PT1S", overridden.Message);
        Assert.Equal("PT1S", overridden.Details!["holdsOverride"]);
        var normal = Assert.Single(host.Alerts.For(plain), a => a.Kind == "rotation.started");
        Assert.DoesNotContain("holds", normal.Message);
        Assert.False(normal.Details?.ContainsKey("holdsOverride") ?? false);
    }
}
