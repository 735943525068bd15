using System.Net;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.KnownSources;
using FuncKeyOps.Anomalies.Sweep;
using FuncKeyOps.Audit;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// The sweep with the <c>new_source</c> detector, its known-source store and the <c>budget</c> check registered as
/// AddFuncKeyOps does, plus the relay keys' row cache they read (without the rest of the relay keys' services).
/// </summary>
internal static class NewSourceHarness
{
    public static Task<SweepHarness> CreateAsync(IDictionary<string, string?>? settings = null) =>
        SweepHarness.CreateAsync(settings, configure: services =>
        {
            services.AddOptions<RelayKeysOptions>();
            services.AddSingleton(sp => new RelayKeyCache(sp.GetRequiredService<TableStore>(), sp.GetRequiredService<IOptions<RelayKeysOptions>>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RelayKeyCache>>()));
            services.AddNewSourceAndBudget();
        });

    /// <summary>Stores a relay key row as the relay keys' service would (its hash is never read here).</summary>
    public static async Task StoreRelayKeyAsync(SweepHarness sweep, string id, string tenant = "tenant-a", string[]? allowedIps = null,
        long? dailyTokens = null, long? monthlyTokens = null)
    {
        var key = new RelayKey
        {
            Id = id,
            Tenant = tenant,
            Name = id,
            AllowedIps = (allowedIps ?? []).Select(IPNetwork.Parse).ToArray(),
            DailyTokens = dailyTokens,
            MonthlyTokens = monthlyTokens,
            CreatedAt = SweepHarness.Start.AddDays(-60),
        };
        var table = await sweep.Tables.GetTableAsync(TableNames.RelayKeys);
        await table.UpsertEntityAsync(RelayKeyEntity.From(key, hash: "not-read", pepperVersion: "v1"));
    }

    /// <summary>Teaches the store a window's rows through its closed-window sink, as the sweep does once the window is swept.</summary>
    public static Task TeachAsync(SweepHarness sweep, SweepWindow window, IEnumerable<AuditRecord> records)
    {
        var tally = new WindowTally(window);
        foreach (var record in records)
            tally.Add(SweepRow.From(AuditEntity.ToEntity(record, shards: 16)));
        return sweep.Services.GetRequiredService<KnownSourceStore>().WriteAsync(tally, [], CancellationToken.None);
    }

    /// <summary>The next window after <see cref="SweepHarness.FirstWindow"/>, swept once closed; what that run handed on.</summary>
    public static async Task<IReadOnlyList<Finding>> SweepSecondWindowAsync(SweepHarness sweep, IEnumerable<AuditRecord> records)
    {
        var before = sweep.Responder.Findings.Count;
        var second = SweepHarness.FirstWindow.Next;
        await sweep.SeedAsync(records);
        sweep.MoveTo(second.End + TimeSpan.FromMinutes(1));
        var run = await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        Assert.Equal(SweepRunOutcome.Swept, run.Outcome);
        Assert.Equal([second], run.Windows.Select(w => w.Window));
        return [.. sweep.Responder.Findings.Skip(before)];
    }
}
