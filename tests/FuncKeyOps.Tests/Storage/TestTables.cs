using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using FuncKeyOps.Hosting;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Storage;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Tests.Storage;

/// <summary>A <see cref="TableStore"/> on the run's Azurite with a table prefix of its own.</summary>
internal static class TestTables
{
    public static async Task<TableStore> CreateAsync(string? prefix = null, string? connectionString = null, HttpPipelinePolicy? policy = null)
    {
        var options = new StorageOptions
        {
            ConnectionString = connectionString ?? await SharedAzurite.GetConnectionStringAsync(),
            TablePrefix = prefix ?? TestNames.NewTablePrefix(),
        };
        var service = policy is null
            ? AzureClientFactory.CreateTableService(options, () => throw new InvalidOperationException("no credential in tests"))
            : ServiceWith(options.ConnectionString, policy);
        return new TableStore(service, Options.Create(options));
    }

    /// <summary>A client with the product's retry settings and a policy of the test's in its pipeline.</summary>
    public static TableServiceClient ServiceWith(string connectionString, HttpPipelinePolicy policy)
    {
        var options = new TableClientOptions();
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(2);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        options.AddPolicy(policy, HttpPipelinePosition.PerCall);
        return new TableServiceClient(connectionString, options);
    }
}
