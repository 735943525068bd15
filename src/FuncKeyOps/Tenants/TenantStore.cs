using Azure;
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

    /// <summary>
    /// Claims the replacement of the tenant's key for the provider: one PUT at a time, across instances (insert, or
    /// replace by ETag). A claim older than <paramref name="lease"/> belongs to a PUT that stopped and is taken over.
    /// The claim's ETag, or null when another PUT holds it.
    /// </summary>
    public async Task<ETag?> TryClaimAsync(string tenant, string provider, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        var table = await Table(cancellationToken).ConfigureAwait(false);
        var (partition, row) = (TenantKeyNames.Partition(tenant), TenantEntity.ClaimRow(provider));
        if (await table.TryGetAsync<TenantEntity>(partition, row, cancellationToken).ConfigureAwait(false) is not { } held)
        {
            var claim = new TenantEntity { PartitionKey = partition, RowKey = row, Tenant = tenant, Provider = provider, ClaimedAt = now };
            return await table.TryInsertAsync(claim, cancellationToken).ConfigureAwait(false) ? claim.ETag : null;
        }
        // Another tenant whose name hashes alike holds nothing of this one's; its claim is taken as stale would be.
        if (held.Tenant == tenant && held.ClaimedAt > now - lease)
            return null;
        held.Tenant = tenant;
        held.Provider = provider;
        held.ClaimedAt = now;
        return await table.TryReplaceAsync(held, cancellationToken).ConfigureAwait(false) ? held.ETag : null;
    }

    /// <summary>Ends a claim, unless another PUT took it over meanwhile (its ETag changed).</summary>
    public async Task ReleaseClaimAsync(string tenant, string provider, ETag claim, CancellationToken cancellationToken = default)
    {
        var table = await Table(cancellationToken).ConfigureAwait(false);
        try
        {
            await table.DeleteEntityAsync(TenantKeyNames.Partition(tenant), TenantEntity.ClaimRow(provider), claim, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
        }
    }

    /// <summary>Every claim stored: PUTs under way, or stopped before they finished.</summary>
    public async Task<IReadOnlyList<TenantClaim>> ListClaimsAsync(CancellationToken cancellationToken = default)
    {
        var table = await Table(cancellationToken).ConfigureAwait(false);
        // '.' follows '-': every RowKey that starts with "claim-".
        var filter = TableClient.CreateQueryFilter($"RowKey ge {TenantEntity.ClaimRowPrefix} and RowKey lt {"claim."}");
        var claims = new List<TenantClaim>();
        await foreach (var row in table.QueryAsync<TenantEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (row.Provider is not null)
                claims.Add(new TenantClaim(row.Tenant, row.Provider, row.ClaimedAt, row.ETag));
        }
        return claims;
    }

    private Task<TableClient> Table(CancellationToken cancellationToken) => tables.GetTableAsync(TableNames.Tenants, cancellationToken);
}
