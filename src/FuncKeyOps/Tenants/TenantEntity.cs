using Azure;
using Azure.Data.Tables;

namespace FuncKeyOps.Tenants;

/// <summary>
/// A row of the <c>tenants</c> table, partition <see cref="TenantKeyNames.Partition"/>: the tenant's policy
/// (RowKey <see cref="PolicyRow"/>), what it brought for one provider (RowKey <c>key-{provider}</c>), or the claim of
/// a PUT replacing that key (RowKey <c>claim-{provider}</c>, see <see cref="TenantStore.TryClaimAsync"/>). Never a key value.
/// </summary>
internal sealed class TenantEntity : ITableEntity
{
    public const string PolicyRow = "policy";
    private const string KeyRowPrefix = "key-";
    internal const string ClaimRowPrefix = "claim-";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Tenant { get; set; } = "";

    // Policy row.
    public bool FallbackToPlatform { get; set; }

    // Key rows. A row stays after DELETE (Stored false): the tenant still brings its own key for this provider.
    public string? Provider { get; set; }
    public bool Stored { get; set; }
    /// <summary>The last 4 characters of the stored value, computed when it was stored.</summary>
    public string? Hint { get; set; }
    public DateTimeOffset? StoredAt { get; set; }
    public DateTimeOffset? LastUsed { get; set; }

    // Claim rows: when the PUT holding it began.
    public DateTimeOffset? ClaimedAt { get; set; }

    public static string KeyRow(string provider) => KeyRowPrefix + provider;

    public static string ClaimRow(string provider) => ClaimRowPrefix + provider;

    public bool IsKeyRow => RowKey.StartsWith(KeyRowPrefix, StringComparison.Ordinal) && Provider is not null;
}
