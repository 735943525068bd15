using Azure;
using Azure.Data.Tables;

namespace FuncKeyOps.Storage;

/// <summary>ETag-guarded writes: a lost race is a normal outcome the caller handles, not an exception.</summary>
public static class OptimisticConcurrency
{
    /// <summary>Replaces the row only if it still carries <paramref name="entity"/>'s ETag. False when another writer got there first.</summary>
    public static async Task<bool> TryReplaceAsync<T>(this TableClient table, T entity, CancellationToken cancellationToken = default)
        where T : ITableEntity
    {
        if (entity.ETag == default)
            throw new ArgumentException("The entity has no ETag; read it before replacing it.", nameof(entity));
        try
        {
            var response = await table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            entity.ETag = response.Headers.ETag ?? entity.ETag;
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            return false;
        }
    }

    /// <summary>Inserts the row only if absent. False when it already exists.</summary>
    public static async Task<bool> TryInsertAsync<T>(this TableClient table, T entity, CancellationToken cancellationToken = default)
        where T : ITableEntity
    {
        try
        {
            var response = await table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
            entity.ETag = response.Headers.ETag ?? entity.ETag;
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return false;
        }
    }

    /// <summary>Reads a row, or null when absent.</summary>
    public static async Task<T?> TryGetAsync<T>(this TableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken = default)
        where T : class, ITableEntity, new()
    {
        var response = await table.GetEntityIfExistsAsync<T>(partitionKey, rowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? response.Value : null;
    }
}
