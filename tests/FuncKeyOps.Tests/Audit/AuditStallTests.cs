using Azure;
using System.Text.Json;
using Azure.Data.Tables;
using FuncKeyOps.Audit;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing.Storage;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace FuncKeyOps.Tests.Audit;

/// <summary>
/// Table Storage hangs (a private Azurite frozen) for 15 s while clients call the relay through the Server host.
/// The memory buffer is small, so it fills early and the rest of the stall goes to the spill file or is refused.
/// </summary>
public class AuditStallTests(ITestOutputHelper output)
{
    // 8 clients at most 100 calls/s each: at most 12,000 calls in the stall, which Azurite takes in about 10 s afterwards.
    private const int Clients = 8;
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(10);

    // The scenario's length, not a wait for anything: the clients stop sending when it ends.
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_storage_stall_under_load_loses_no_audit_row_when_rows_spill_to_disk()
    {
        await using var azurite = await AzuriteInstance.StartAsync();
        using var spill = new TempFolder();
        await using var host = await RelayHost.StartAsync(azurite.ConnectionString, Settings(spill.Path, []));

        var (load, since) = await StallAsync(azurite, host);
        var stored = await StoredRequestIdsAsync(host, since);

        var writer = host.Services.GetRequiredService<AuditWriter>();
        output.WriteLine($"answers {load.Answers.Count} (200: {load.Count(200)}), rows stored {stored.Count}, dropped {writer.DroppedCount}");
        Assert.Equal(load.Answers.Count, load.Count(200));
        Assert.Equal(0, writer.DroppedCount);
        Assert.Equal(load.RequestIds.Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_storage_stall_under_load_with_a_full_spill_refuses_calls_and_still_audits_every_answer()
    {
        await using var azurite = await AzuriteInstance.StartAsync();
        using var spill = new TempFolder();
        await using var host = await RelayHost.StartAsync(azurite.ConnectionString, Settings(spill.Path, new()
        {
            ["Audit:WhenFull"] = "reject",
            ["Audit:SpillLimitBytes"] = "65536",
        }));

        var (load, since) = await StallAsync(azurite, host);
        var stored = await StoredRequestIdsAsync(host, since);

        var writer = host.Services.GetRequiredService<AuditWriter>();
        output.WriteLine($"answers {load.Answers.Count} (200: {load.Count(200)}, 503: {load.Count(503)}), rows stored {stored.Count}, dropped {writer.DroppedCount}");
        Assert.True(load.Count(503) > 0, "the spill never filled: nothing was refused");
        Assert.Equal(load.Answers.Count, load.Count(200) + load.Count(503));
        // Refused before forwarding, in OpenAI's error shape.
        Assert.Equal(load.Count(200), host.OpenAI.Requests.Count);
        using (var refusal = JsonDocument.Parse(load.FirstBody(503)!))
            Assert.Equal("audit_unavailable", refusal.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains(host.Server.Logs.Lines, l => l.StartsWith("Error ", StringComparison.Ordinal) && l.Contains("refuses calls with 503", StringComparison.Ordinal));
        Assert.Equal(0, writer.DroppedCount);
        // No call answered (200 or 503) is without its row.
        Assert.Equal(load.RequestIds.Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));
    }

    internal static Dictionary<string, string?> Settings(string spillPath, Dictionary<string, string?> more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Audit:Capacity"] = "200",
            ["Audit:SpillPath"] = spillPath,
            ["Audit:InitialRetryDelay"] = "00:00:00.200",
            ["Audit:MaxRetryDelay"] = "00:00:01",
        };
        foreach (var (key, value) in more)
            settings[key] = value;
        return settings;
    }

    /// <summary>One call while storage is up (the relay key is read and cached), then the stall under load, then storage back and every row written.</summary>
    private static async Task<(RelayLoad Load, DateTimeOffset Since)> StallAsync(AzuriteInstance azurite, RelayHost host)
    {
        var since = DateTimeOffset.UtcNow;
        var (_, secret) = await host.CreateRelayKeyAsync();
        var load = new RelayLoad(host.Client, secret);
        await load.CallAsync();

        azurite.Pause();
        using (var stall = new CancellationTokenSource(Stall))
            await load.RunAsync(Clients, Pace, stall.Token);
        azurite.Resume();

        await host.Server.WaitIdleAsync().WaitAsync(AuditHarness.Timeout);
        await host.Services.GetRequiredService<AuditWriter>().FlushAsync().WaitAsync(AuditHarness.Timeout);
        return (load, since);
    }

    /// <summary>The request id of every audit row stored since <paramref name="since"/> (the month's table, and the next one's when the month turned).</summary>
    internal static async Task<List<string>> StoredRequestIdsAsync(RelayHost host, DateTimeOffset since)
    {
        var tables = host.Services.GetRequiredService<TableStore>();
        var ids = new List<string>();
        foreach (var name in new[] { TableNames.Audit(since), TableNames.Audit(DateTimeOffset.UtcNow) }.Distinct())
        {
            try
            {
                await foreach (var row in tables.Service.GetTableClient(tables.PhysicalName(name)).QueryAsync<TableEntity>(select: ["RowKey"]))
                    ids.Add(row.RowKey);
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                // No row was written in that month.
            }
        }
        return ids;
    }
}

/// <summary>A private folder removed with everything in it at the end of the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("fko-spill-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}
