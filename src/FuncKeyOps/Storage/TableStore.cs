using System.Collections.Concurrent;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Storage;

/// <summary>
/// Hands out <see cref="TableClient"/>s by logical name, with the configured prefix applied and the table
/// created once per process. Thread-safe; clients are cached like the Azure SDK guidelines ask.
/// </summary>
public sealed class TableStore
{
    private readonly TableServiceClient _service;
    private readonly string _prefix;
    private readonly ConcurrentDictionary<string, Lazy<Task<TableClient>>> _tables = new(StringComparer.Ordinal);

    public TableStore(TableServiceClient service, IOptions<StorageOptions> options)
    {
        _service = service;
        _prefix = options.Value.TablePrefix;
        if (_prefix.Length > 0 && !IsValidTableName(_prefix + "x"))
            throw new ArgumentException($"Storage:TablePrefix '{_prefix}' must be letters and digits, starting with a letter.");
    }

    public TableServiceClient Service => _service;

    /// <summary>The physical name of a logical table.</summary>
    public string PhysicalName(string logicalName) => _prefix + logicalName;

    /// <summary>A client for the table, creating it on first use. A failed creation is retried on the next call.</summary>
    public async Task<TableClient> GetTableAsync(string logicalName, CancellationToken cancellationToken = default)
    {
        var lazy = _tables.GetOrAdd(logicalName, name => new Lazy<Task<TableClient>>(() => CreateAsync(name)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (lazy.Value.IsFaulted)
        {
            _tables.TryRemove(new KeyValuePair<string, Lazy<Task<TableClient>>>(logicalName, lazy));
            throw;
        }
    }

    private async Task<TableClient> CreateAsync(string logicalName)
    {
        var physical = PhysicalName(logicalName);
        if (!IsValidTableName(physical))
            throw new ArgumentException($"'{physical}' is not a valid table name.", nameof(logicalName));
        var client = _service.GetTableClient(physical);
        // Creation is not tied to one caller's cancellation: other callers share this task.
        await client.CreateIfNotExistsAsync(CancellationToken.None).ConfigureAwait(false);
        return client;
    }

    internal static bool IsValidTableName(string name) =>
        name.Length is >= 3 and <= 63 && char.IsAsciiLetter(name[0]) && name.All(char.IsAsciiLetterOrDigit);
}
