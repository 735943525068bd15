using Azure.Data.Tables;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Tenants;

/// <summary>The <c>tenants</c> table: one partition per tenant with its policy row and one row per provider it brings a key for.</summary>
public sealed class TenantStore(TableStore tables)
{
    /// <summary>The tenant's rows, or null when it has none (no policy set, no key ever stored).</summary>
    public async Task<TenantRecord?> GetAsync(string tenant, CancellationToken cancellationToken = default)
    {
        var table = await Table(cancellationToken).ConfigureAwait(false);
        var partition = TenantKeyNames.Partition(tenant);
        var fallback = false;
        var keys = new Dictionary<string, TenantKeyRecord>(StringComparer.Ordinal);
        var any = false;
        await foreach (var row in table.QueryAsync<TenantEntity>(e => e.PartitionKey == partition, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            // Another tenant whose name hashes alike shares nothing.
            if (row.Tenant != tenant)
                continue;
            any = true;
            if (row.RowKey == TenantEntity.PolicyRow)
                fallback = row.FallbackToPlatform;
            else if (row.IsKeyRow)
                keys[row.Provider!] = new TenantKeyRecord(row.Provider!, row.Stored, row.Hint, row.StoredAt, row.LastUsed);
        }
        return any ? new TenantRecord(tenant, fallback, keys) : null;
    }

    public async Task SetPolicyAsync(string tenant, bool fallbackToPlatform, CancellationToken cancellationToken = default)
    {
        var table = await Table(cancellationToken).ConfigureAwait(false);
        await table.UpsertEntityAsync(new TenantEntity
        {
            PartitionKey = TenantKeyNames.Partition(tenant),
            RowKey = TenantEntity.PolicyRow,
            Tenant = tenant,
            FallbackToPlatform = fallbackToPlatform,
        }, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the provider's row whole: a new value starts with no "last used".</summary>
    public async Task SetKeyAsync(string tenant, TenantKeyRecord key, CancellationToken cancellationToken = default)
    {
        var table = await Table(cancellationToken).ConfigureAwait(false);
        await table.UpsertEntityAsync(new TenantEntity
        {
            PartitionKey = TenantKeyNames.Partition(tenant),
            RowKey = TenantEntity.KeyRow(key.Provider),
            Tenant = tenant,
            Provider = key.Provider,
            Stored = key.Stored,
            Hint = key.Hint,
            StoredAt = key.StoredAt,
            LastUsed = key.LastUsed,
        }, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sets only "last used" on the provider's row (Merge), leaving a value stored meanwhile as it is.</summary>
    public async Task StampLastUsedAsync(string tenant, string provider, DateTimeOffset when, CancellationToken cancellationToken = default)
    {
        var table = await Table(cancellationToken).ConfigureAwait(false);
        var entity = new TableEntity(TenantKeyNames.Partition(tenant), TenantEntity.KeyRow(provider)) { [nameof(TenantEntity.LastUsed)] = when };
        try
        {
            // Merge on the existing row only (ETag *): a stamp must not create a row for a key deleted meanwhile.
            await table.UpdateEntityAsync(entity, Azure.ETag.All, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
        }
    }

    private Task<TableClient> Table(CancellationToken cancellationToken) => tables.GetTableAsync(TableNames.Tenants, cancellationToken);
}
