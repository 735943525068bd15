using System.Diagnostics;
using FuncKeyOps.Audit;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Storage;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace FuncKeyOps.Tests.Audit;

/// <summary>Rows spilled while storage hangs outlive the process: the next host on the same spill folder replays them.</summary>
public class AuditSpillRestartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_host_stopped_while_storage_is_down_spills_its_buffer_and_the_next_host_replays_every_row()
    {
        await using var azurite = await AzuriteInstance.StartAsync();
        using var spill = new TempFolder();
        var settings = AuditStallTests.Settings(spill.Path, new() { ["Storage:TablePrefix"] = TestNames.NewTablePrefix() });
        var since = DateTimeOffset.UtcNow;

        RelayLoad load;
        var first = await RelayHost.StartAsync(azurite.ConnectionString, settings);
        try
        {
            var (_, secret) = await first.CreateRelayKeyAsync();
            load = new RelayLoad(first.Client, secret);
            await load.CallAsync();

            // 600 calls with storage hanging: 200 rows fill the memory buffer, the rest go to the spill file.
            azurite.Pause();
            await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                for (var i = 0; i < 150; i++)
                    await load.CallAsync();
            })));
            await first.Server.WaitIdleAsync().WaitAsync(AuditHarness.Timeout);
            var writer = first.Services.GetRequiredService<AuditWriter>();
            Assert.Equal(load.Answers.Count, load.Count(200));
            Assert.Equal(0, writer.DroppedCount);
            Assert.True(writer.PendingCount >= load.Answers.Count - 1, $"{writer.PendingCount} rows pending for {load.Answers.Count} answers");

            // From hanging to gone, as when the storage outage outlasts the process. (Stopping with storage still
            // hanging is AuditSpillTests' case: here the host's quota flush would wait out its shutdown timeout.)
            await azurite.StopAsync();
        }
        finally
        {
            // Graceful stop with storage down: memory rows go to the spill instead of waiting for storage.
            var stopping = Stopwatch.StartNew();
            await first.DisposeAsync();
            output.WriteLine($"first host stopped in {stopping.Elapsed.TotalSeconds:F1} s");
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(15), $"stopping took {stopping.Elapsed}");
        }

        var slot = Assert.Single(Directory.GetDirectories(spill.Path));
        var segments = Directory.GetFiles(slot, "*.jsonl");
        Assert.NotEmpty(segments);
        var spilledLines = segments.Sum(s => File.ReadLines(s).Count());
        output.WriteLine($"answers {load.Answers.Count}, spilled lines {spilledLines}");
        // All of them, less the ones Azurite may have taken while it was being stopped (some of the 200 in memory).
        Assert.InRange(spilledLines, load.Answers.Count - 201, load.Answers.Count);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(slot));
            foreach (var segment in segments)
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(segment));
        }

        // Storage back and a new process on the same instance: start-up finds the spill and replays it.
        await azurite.StartAgainAsync();
        await using var second = await RelayHost.StartAsync(azurite.ConnectionString, settings);
        var replayer = second.Services.GetRequiredService<AuditWriter>();
        await replayer.FlushAsync().WaitAsync(AuditHarness.Timeout);

        var stored = await AuditStallTests.StoredRequestIdsAsync(second, since);
        Assert.Equal(load.RequestIds.Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));
        Assert.Equal(0, replayer.DroppedCount);
        Assert.Equal(0, replayer.PendingCount);
        Assert.Empty(Directory.GetFiles(slot, "*.jsonl"));
        Assert.Contains(second.Server.Logs.Lines, l => l.Contains("spilled by an earlier process", StringComparison.Ordinal));
    }
}
