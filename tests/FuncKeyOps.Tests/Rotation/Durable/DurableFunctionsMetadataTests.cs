using System.Reflection;
using System.Text.Json;
using FuncKeyOps.Rotation.Durable;

namespace FuncKeyOps.Tests.Rotation.Durable;

/// <summary>
/// The Functions app's build output (functions.metadata, what the Functions host indexes) registers the rotation
/// orchestrator and step activity under the names the driver and the orchestration call, the daily timer on its
/// setting, and a Durable client for each trigger that reaches the driver.
/// </summary>
public class DurableFunctionsMetadataTests
{
    [Fact]
    public void The_rotation_orchestrator_activity_and_daily_schedule_are_registered_with_their_bindings()
    {
        var bindings = ReadBindings();

        Assert.Equal(["orchestrationTrigger"], bindings.GetValueOrDefault(RotationOrchestration.Name)?.Select(b => b.Type));
        Assert.Equal(["activityTrigger"], bindings.GetValueOrDefault(RotationStepActivity.Name)?.Select(b => b.Type));
        var schedule = bindings.GetValueOrDefault("RotationSchedule") ?? [];
        Assert.Contains(new Binding("timerTrigger", "%Rotation:Schedule%"), schedule);
        Assert.Contains(new Binding("durableClient", null), schedule);
        // The one admin trigger serves the rotation routes (start, status, abort), which schedule and signal.
        Assert.Contains(new Binding("durableClient", null), bindings.GetValueOrDefault("Manage") ?? []);
    }

    private sealed record Binding(string Type, string? Schedule);

    private static Dictionary<string, Binding[]> ReadBindings()
    {
        var path = typeof(DurableFunctionsMetadataTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "FunctionsMetadata").Value!;
        Assert.True(File.Exists(path), $"{path} is missing: build the Functions app first (./build.sh functions; ./build.sh test does it).");
        using var metadata = JsonDocument.Parse(File.ReadAllText(path));
        return metadata.RootElement.EnumerateArray().ToDictionary(
            f => f.GetProperty("name").GetString()!,
            f => f.GetProperty("bindings").EnumerateArray()
                .Select(b => new Binding(b.GetProperty("type").GetString()!, b.TryGetProperty("schedule", out var s) ? s.GetString() : null))
                .ToArray());
    }
}
