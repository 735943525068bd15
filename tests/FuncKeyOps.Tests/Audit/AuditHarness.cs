using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Audit;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing.Logging;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Tests.Audit;

/// <summary>The audit services as AddAudit registers them, on a table prefix of their own, with captured logs.</summary>
internal sealed class AuditHarness : IAsyncDisposable
{
    // Caps how long a broken writer can hang a test; never what a passing test waits for.
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private readonly string _spillFolder;

    private AuditHarness(ServiceProvider services, TableStore tables, CapturingLoggerProvider logs, string spillFolder)
    {
        _spillFolder = spillFolder;
        Services = services;
        Tables = tables;
        Logs = logs;
    }

    public ServiceProvider Services { get; }
    public TableStore Tables { get; }
    public CapturingLoggerProvider Logs { get; }
    public AuditWriter Writer => Services.GetRequiredService<AuditWriter>();
    public AuditQuery Query => Services.GetRequiredService<AuditQuery>();

    public static async Task<AuditHarness> CreateAsync(
        string? storageConnectionString = null,
        TimeProvider? time = null,
        IDictionary<string, string?>? settings = null)
    {
        var tables = await TestTables.CreateAsync(connectionString: storageConnectionString);
        var logs = new CapturingLoggerProvider();
        // A spill folder of its own (unless the test names one), so harnesses running in parallel never share rows.
        var spillFolder = Directory.CreateTempSubdirectory("fko-spill-").FullName;
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Audit:SpillPath"] = spillFolder })
            .AddInMemoryCollection(settings ?? new Dictionary<string, string?>())
            .Build();
        var services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug))
            .AddSingleton(tables)
            .AddSingleton<TimeProvider>(time ?? TimeProvider.System)
            .AddAudit(configuration)
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        return new AuditHarness(services, tables, logs, spillFolder);
    }

    public Task StartAsync() => Writer.StartAsync(CancellationToken.None);

    /// <summary>Every row of the month's table as stored, bypassing the mapping; empty when the table does not exist.</summary>
    public async Task<List<TableEntity>> RawRowsAsync(DateTimeOffset month)
    {
        var table = Tables.Service.GetTableClient(Tables.PhysicalName(TableNames.Audit(month)));
        try
        {
            var rows = new List<TableEntity>();
            await foreach (var row in table.QueryAsync<TableEntity>())
                rows.Add(row);
            return rows;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return [];
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var shutdown = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await Writer.StopAsync(shutdown.Token);
        await Services.DisposeAsync();
        Directory.Delete(_spillFolder, recursive: true);
    }
}
