using Azure.Data.Tables;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Sweep;
using FuncKeyOps.Audit;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing.Logging;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// The sweep as <c>AddAnomalySweeps</c> registers it, on a table prefix of its own (or a shared one: two instances of one
/// deployment), with a fake clock and a <see cref="RecordingResponder"/>.
/// </summary>
internal sealed class SweepHarness : IAsyncDisposable
{
    /// <summary>A Tuesday, 10:02:30 UTC: inside the 10:00 window.</summary>
    public static readonly DateTimeOffset Start = new(2026, 3, 10, 10, 2, 30, TimeSpan.Zero);

    private SweepHarness(ServiceProvider services, TableStore tables, FakeTimeProvider time, RecordingResponder responder, CapturingLoggerProvider logs)
    {
        Services = services;
        Tables = tables;
        Time = time;
        Responder = responder;
        Logs = logs;
    }

    public ServiceProvider Services { get; }
    public TableStore Tables { get; }
    public FakeTimeProvider Time { get; }
    public RecordingResponder Responder { get; }
    public CapturingLoggerProvider Logs { get; }
    public SweepRunner Runner => Services.GetRequiredService<SweepRunner>();
    public SweepCheckpointStore Checkpoints => Services.GetRequiredService<SweepCheckpointStore>();

    /// <param name="sameTablesAs">Another instance of the same deployment: its tables and its clock.</param>
    /// <param name="configure">Runs after the sweep's registration (extra checks, sinks).</param>
    /// <param name="start">The clock's start when not <see cref="Start"/> (a night, another season).</param>
    /// <param name="tables">The tables to use (e.g. through a fault-injecting pipeline policy); new ones when null.</param>
    public static async Task<SweepHarness> CreateAsync(IDictionary<string, string?>? settings = null, SweepHarness? sameTablesAs = null,
        Action<IServiceCollection>? configure = null, DateTimeOffset? start = null, TableStore? tables = null)
    {
        tables ??= sameTablesAs?.Tables ?? await TestTables.CreateAsync();
        var time = sameTablesAs?.Time ?? new FakeTimeProvider(start ?? Start);
        var responder = new RecordingResponder();
        var logs = new CapturingLoggerProvider();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        var collection = new ServiceCollection()
            .AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug))
            .AddSingleton(tables)
            .AddSingleton<TimeProvider>(time)
            .AddSingleton<IFindingResponder>(responder)
            .AddAnomalySweeps(configuration);
        configure?.Invoke(collection);
        var services = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        return new SweepHarness(services, tables, time, responder, logs);
    }

    /// <summary>Writes the rows as the audit writer would (<see cref="AuditEntity.ToEntity"/>), a transaction per partition.</summary>
    public Task SeedAsync(IEnumerable<AuditRecord> records) => SeedAsync(Tables, records);

    public static async Task SeedAsync(TableStore tables, IEnumerable<AuditRecord> records)
    {
        foreach (var month in records.GroupBy(r => TableNames.Audit(r.Time)))
        {
            var table = await tables.GetTableAsync(month.Key);
            foreach (var partition in month.Select(r => AuditEntity.ToEntity(r, shards: 16)).GroupBy(e => e.PartitionKey))
            {
                foreach (var chunk in partition.Chunk(100))
                    await table.SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)));
            }
        }
    }

    /// <summary>The window <see cref="Start"/> is in (10:00), which the first run leaves to sweep once closed.</summary>
    public static readonly SweepWindow FirstWindow = SweepWindow.Containing(Start);

    /// <summary>
    /// The first run (which only places the checkpoint), then <paramref name="records"/> stored, then a run once
    /// <see cref="FirstWindow"/> is closed; returns what that run handed on.
    /// </summary>
    public async Task<(SweepRunResult Run, IReadOnlyList<Finding> Findings)> SweepFirstWindowAsync(IEnumerable<AuditRecord> records)
    {
        var first = await Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        Assert.Equal(SweepRunOutcome.Swept, first.Outcome);
        Assert.Empty(first.Windows);
        await SeedAsync(records);
        MoveTo(FirstWindow.End + TimeSpan.FromMinutes(1));
        var run = await Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        Assert.Equal(SweepRunOutcome.Swept, run.Outcome);
        Assert.Equal([FirstWindow], run.Windows.Select(w => w.Window));
        return (run, Responder.Findings);
    }

    /// <summary>Moves the clock to <paramref name="time"/> (never back).</summary>
    public void MoveTo(DateTimeOffset time)
    {
        var by = time - Time.GetUtcNow();
        Assert.True(by >= TimeSpan.Zero, $"the clock is past {time:O} already");
        Time.Advance(by);
    }

    public ValueTask DisposeAsync() => Services.DisposeAsync();
}

/// <summary>Audit rows as the relay writes them, for one scenario each.</summary>
internal static class SweepRows
{
    /// <summary>A time inside the window starting at <paramref name="windowStart"/>: a few distinct seconds, so a few partitions.</summary>
    public static DateTimeOffset In(DateTimeOffset windowStart, int i = 0) => windowStart.AddSeconds(7 + i % 4 * 60).AddMilliseconds(i % 1000);

    public static AuditRecord Call(DateTimeOffset time, string relayKeyId, int status = 200, long input = 10, long output = 5,
        string tenant = "tenant-a", string source = "198.51.100.10", string providerKey = "openai-main", string version = "v1",
        string? errorCode = null, int? upstreamStatus = null, int? attempt = null, string? requestId = null) => new()
    {
        RequestId = requestId ?? $"req-{Guid.NewGuid():N}",
        Time = time,
        Tenant = tenant,
        RelayKeyId = relayKeyId,
        Provider = "openai",
        ProviderKeyName = providerKey,
        ProviderKeyVersion = version,
        Model = "gpt-4o-mini",
        Method = "POST",
        Path = "v1/chat/completions",
        Status = status,
        LatencyMs = 12.5,
        InputTokens = status < 400 ? input : null,
        OutputTokens = status < 400 ? output : null,
        SourceIp = source,
        UserAgent = "OpenAI/Python 1.54.0",
        RequestBytes = 100,
        ErrorCode = errorCode,
        UpstreamStatus = upstreamStatus,
        Attempt = attempt,
    };

    /// <summary>A call refused with <c>invalid_relay_key</c>; <paramref name="claimedRelayKeyId"/> when the key id named exists.</summary>
    public static AuditRecord FailedAuth(DateTimeOffset time, string source, string? claimedRelayKeyId = null) => new()
    {
        RequestId = $"auth-{Guid.NewGuid():N}",
        Time = time,
        RelayKeyId = claimedRelayKeyId,
        Tenant = claimedRelayKeyId is null ? null : "tenant-a",
        Provider = "openai",
        Method = "POST",
        Path = "v1/chat/completions",
        Status = 401,
        SourceIp = source,
        ErrorCode = "invalid_relay_key",
    };

    public static IEnumerable<AuditRecord> Times(int count, Func<int, AuditRecord> row) => Enumerable.Range(0, count).Select(row);
}
