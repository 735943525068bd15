using Azure.Data.Tables;
using FuncKeyOps.Retention;
using FuncKeyOps.Storage;
using FuncKeyOps.Tests.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Retention;

/// <summary>The retention job in the real Server host, on its Cronos schedule (a fake clock drives it).</summary>
public sealed class RetentionServerTests
{
    [Fact]
    public async Task The_Server_host_runs_retention_daily_on_its_schedule()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 7, 1, 3, 0, 0, TimeSpan.Zero));
        await using var host = await ServerHost.StartAsync(time: time, settings: new Dictionary<string, string?> { ["Retention:Schedule"] = "0 0 4 * * *" });
        var tables = host.App.Services.GetRequiredService<TableStore>();
        foreach (var month in new[] { new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero) })
        {
            var table = await tables.GetTableAsync(TableNames.Audit(month));
            await table.AddEntityAsync(new TableEntity(TableKeys.AuditPartition(month, 0), "r1") { ["Time"] = month });
        }
        var schedule = host.App.Services.GetServices<IHostedService>().OfType<RetentionScheduleService>().Single();
        Assert.Equal(new DateTimeOffset(2026, 7, 1, 4, 0, 0, TimeSpan.Zero), schedule.NextRun);

        // 04:00, 90 days back is 2026-04-02 04:00: March is over, April is not.
        var run = await RunScheduledAsync(schedule, time);

        Assert.Equal(["audit202603"], run.DroppedAuditTables);
        Assert.Equal(new DateTimeOffset(2026, 7, 2, 4, 0, 0, TimeSpan.Zero), schedule.NextRun);
        Assert.Empty((await RunScheduledAsync(schedule, time)).DroppedAuditTables);
    }

    private static async Task<RetentionRun> RunScheduledAsync(RetentionScheduleService schedule, FakeTimeProvider time)
    {
        var ran = schedule.NextRunCompleted;
        time.Advance(schedule.NextRun!.Value - time.GetUtcNow());
        return await ran.WaitAsync(TimeSpan.FromSeconds(60));
    }
}
