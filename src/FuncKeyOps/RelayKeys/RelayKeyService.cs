using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Storage;

namespace FuncKeyOps.RelayKeys;

/// <summary>Creates relay keys and changes their status. Every change is seen at once by this instance's authenticator.</summary>
public sealed class RelayKeyService
{
    private readonly TableStore _tables;
    private readonly RelayKeyPepper _pepper;
    private readonly RelayKeyCache _cache;
    private readonly TimeProvider _time;
    private readonly RelayKeyBindingCheck _bindings;

    internal RelayKeyService(TableStore tables, RelayKeyPepper pepper, RelayKeyCache cache, TimeProvider time, RelayKeyBindingCheck bindings)
    {
        _tables = tables;
        _pepper = pepper;
        _cache = cache;
        _time = time;
        _bindings = bindings;
    }

    /// <summary>Stores a new key. <c>Secret</c> is the whole <c>fko_…</c> key: this is the only time it exists outside the client.</summary>
    /// <exception cref="RelayKeyValidationException">The spec is invalid.</exception>
    public async Task<(RelayKey Key, string Secret)> CreateAsync(RelayKeySpec spec, CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        // Validated before the vault or storage is touched.
        var template = RelayKeySpecValidator.ToKey(spec, RelayKeyFormat.NewId(), now);
        await _bindings.ThrowIfUnknownAsync(template, null, cancellationToken).ConfigureAwait(false);
        var pepper = await _pepper.GetCurrentAsync(cancellationToken).ConfigureAwait(false);
        var table = await Table(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            // 36^12 ids make a collision rare, but an insert never overwrites another key's row.
            var key = template with { Id = RelayKeyFormat.NewId() };
            var secret = RelayKeyFormat.NewSecret();
            var entity = RelayKeyEntity.From(key, RelayKeyPepper.Hash(pepper, secret), pepper.Version);
            if (await table.TryInsertAsync(entity, cancellationToken).ConfigureAwait(false))
            {
                _cache.Invalidate(key.Id);
                return (key, RelayKeyFormat.Compose(key.Id, secret));
            }
        }
    }

    /// <summary>
    /// One page of keys in id order, at most <paramref name="limit"/> (Table Storage may return fewer), and the
    /// token for the next page, null after the last. <paramref name="continuation"/> is a token from an earlier page.
    /// </summary>
    /// <exception cref="RelayKeyValidationException">The continuation token is not one this call returned.</exception>
    public async Task<(IReadOnlyList<RelayKey> Keys, string? Next)> ListAsync(int limit, string? continuation, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var start = continuation is null ? null : RelayKeyPageToken.Decode(continuation);
        var table = await Table(cancellationToken).ConfigureAwait(false);
        var pages = table.QueryAsync<RelayKeyEntity>(e => e.PartitionKey == TableKeys.RelayKeyPartition, limit, cancellationToken: cancellationToken)
            .AsPages(start, limit);
        try
        {
            await foreach (var page in pages.ConfigureAwait(false))
                return ([.. page.Values.Select(e => e.ToRelayKey())], page.ContinuationToken is { } next ? RelayKeyPageToken.Encode(next) : null);
        }
        catch (RequestFailedException e) when (e.Status == 400 && start is not null)
        {
            throw RelayKeyPageToken.Invalid(); // well-shaped, but not a position the service knows
        }
        return ([], null);
    }

    /// <summary>The key, or null when no key has this id.</summary>
    public async Task<RelayKey?> GetAsync(string id, CancellationToken cancellationToken = default) =>
        (await ReadAsync(id, cancellationToken).ConfigureAwait(false))?.ToRelayKey();

    /// <summary>Null when absent. Suspending a suspended key changes nothing.</summary>
    /// <exception cref="RelayKeyConflictException">The key is revoked.</exception>
    public Task<RelayKey?> SuspendAsync(string id, CancellationToken cancellationToken = default) =>
        ChangeStatusAsync(id, RelayKeyStatus.Suspended, "suspended", cancellationToken);

    /// <summary>Null when absent. Resuming an active key changes nothing.</summary>
    /// <exception cref="RelayKeyConflictException">The key is revoked: revocation is final.</exception>
    public Task<RelayKey?> ResumeAsync(string id, CancellationToken cancellationToken = default) =>
        ChangeStatusAsync(id, RelayKeyStatus.Active, "resumed", cancellationToken);

    /// <summary>Null when absent. The row stays, so the key is reported as revoked rather than unknown.</summary>
    public Task<RelayKey?> RevokeAsync(string id, CancellationToken cancellationToken = default) =>
        ChangeStatusAsync(id, RelayKeyStatus.Revoked, "revoked", cancellationToken);

    /// <summary>
    /// Applies a merge patch (limits, lists, expiry, name); null when absent. Other instances see the change within
    /// their relay-key cache TTL, as they see a suspension.
    /// </summary>
    /// <exception cref="RelayKeyValidationException">The patched key would be invalid; nothing is written.</exception>
    /// <exception cref="RelayKeyConflictException">The key is revoked: a revoked key is kept as it was revoked.</exception>
    public Task<RelayKey?> UpdateAsync(string id, RelayKeyPatch patch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(patch);
        return ModifyAsync(id, async (entity, key) =>
        {
            if (key.Status == RelayKeyStatus.Revoked)
                throw new RelayKeyConflictException(id, key.Status, "changed");
            var changed = RelayKeySpecValidator.Apply(key, patch, _time.GetUtcNow());
            await _bindings.ThrowIfUnknownAsync(changed, key, cancellationToken).ConfigureAwait(false);
            var replacement = RelayKeyEntity.From(changed, entity.Hash, entity.PepperVersion);
            replacement.ETag = entity.ETag;
            return (replacement, changed);
        }, cancellationToken);
    }

    private Task<RelayKey?> ChangeStatusAsync(string id, RelayKeyStatus target, string verb, CancellationToken cancellationToken) =>
        ModifyAsync(id, (entity, key) =>
        {
            if (key.Status == target)
                return new((null, key));
            if (key.Status == RelayKeyStatus.Revoked)
                throw new RelayKeyConflictException(id, key.Status, verb);
            entity.Status = RelayKeyEntity.StatusText(target);
            return new((entity, key with { Status = target }));
        }, cancellationToken);

    /// <summary>
    /// ETag-guarded read-modify-write of one key: a concurrent change (say a revoke) is never overwritten, the change
    /// is worked out again on the row as it now is. <paramref name="change"/> returns the row to write (null: nothing
    /// to write) and the key to answer; it may throw to refuse. Null when the key does not exist.
    /// </summary>
    private async Task<RelayKey?> ModifyAsync(string id, Func<RelayKeyEntity, RelayKey, ValueTask<(RelayKeyEntity? Replacement, RelayKey Result)>> change,
        CancellationToken cancellationToken)
    {
        var table = await Table(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                var entity = await ReadAsync(id, cancellationToken).ConfigureAwait(false);
                if (entity is null)
                    return null;
                var (replacement, result) = await change(entity, entity.ToRelayKey()).ConfigureAwait(false);
                if (replacement is null || await table.TryReplaceAsync(replacement, cancellationToken).ConfigureAwait(false))
                    return result;
            }
        }
        finally
        {
            _cache.Invalidate(id);
        }
    }

    private async Task<RelayKeyEntity?> ReadAsync(string id, CancellationToken cancellationToken)
    {
        // An id that cannot exist is not worth a storage call, and is never a valid RowKey anyway.
        if (!RelayKeyFormat.IsId(id))
            return null;
        var table = await Table(cancellationToken).ConfigureAwait(false);
        return await table.TryGetAsync<RelayKeyEntity>(TableKeys.RelayKeyPartition, id, cancellationToken).ConfigureAwait(false);
    }

    private Task<TableClient> Table(CancellationToken cancellationToken) =>
        _tables.GetTableAsync(TableNames.RelayKeys, cancellationToken);
}
