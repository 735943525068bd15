using FuncKeyOps.Audit;
using FuncKeyOps.Rotation;
using FuncKeyOps.Tests.Audit;

namespace FuncKeyOps.Tests.Rotation;

public class CanaryAnalysisFloodTests
{
    private static readonly DateTimeOffset Shift = new(2026, 9, 14, 10, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// During a hold, more unauthenticated calls than any read limit land before the new version's first call (they
    /// name no provider key); the new version then fails every call. The analysis counts those failures, not "too few calls".
    /// </summary>
    [Fact]
    public async Task A_flood_of_other_calls_during_the_hold_does_not_hide_the_new_versions_errors()
    {
        await using var audit = await AuditHarness.CreateAsync();
        await audit.StartAsync();
        for (var i = 0; i < AuditQuery.MaxLimit + 500; i++)
        {
            audit.Writer.Enqueue(new AuditRecord
            {
                RequestId = $"flood-{i:D5}",
                Time = Shift.AddMilliseconds(i),
                Provider = "openai",
                Method = "POST",
                Path = "v1/chat/completions",
                Status = 401,
                ErrorCode = "invalid_relay_key",
            });
        }
        var newVersion = Enumerable.Range(0, 6).Select(i => AuditRecords.Full($"new-{i}", Shift.AddMinutes(1).AddSeconds(i)) with
        {
            ProviderKeyName = "openai-canary", ProviderKeyVersion = "v2", Status = 502, UpstreamStatus = 401,
        });
        var otherVersion = AuditRecords.Full("old-0", Shift.AddMinutes(1)) with { ProviderKeyName = "openai-canary", ProviderKeyVersion = "v1", Status = 200, UpstreamStatus = 200 };
        foreach (var record in newVersion.Append(otherVersion))
            audit.Writer.Enqueue(record);
        await audit.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout);

        var measured = await new RotationErrorRate(audit.Query).MeasureAsync("openai-canary", "v2", Shift, Shift.AddMinutes(5), CancellationToken.None);

        Assert.Equal((6, 6), measured);
        Assert.Equal((1, 0), await new RotationErrorRate(audit.Query).MeasureAsync("openai-canary", "v1", Shift, Shift.AddMinutes(5), CancellationToken.None));
        Assert.Equal((0, 0), await new RotationErrorRate(audit.Query).MeasureAsync("openai-canary", "v2", Shift, Shift.AddMinutes(1), CancellationToken.None));
    }
}
