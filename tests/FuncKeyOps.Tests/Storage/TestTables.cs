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
    public static async Task<TableStore> CreateAsync(string? prefix = null, string? connectionString = null)
    {
        var options = new StorageOptions
        {
            ConnectionString = connectionString ?? await SharedAzurite.GetConnectionStringAsync(),
            TablePrefix = prefix ?? TestNames.NewTablePrefix(),
        };
        var service = AzureClientFactory.CreateTableService(options, () => throw new InvalidOperationException("no credential in tests"));
        return new TableStore(service, Options.Create(options));
    }
}
