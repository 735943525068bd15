using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Tenants;

/// <summary>
/// "Last used" of tenants' own keys, as <c>GET</c> shows it: stamped on the tenant's row when the relay routes a call
/// to the key, at most once per <see cref="Interval"/> per key and instance, off the call's path. The audit rows say
/// which provider key served each call, but answering a GET from them would mean scanning a month of audit; a minute's
/// precision is what "last used" needs.
/// </summary>
public sealed partial class TenantKeyUsage(TenantStore store, TimeProvider time, ILogger<TenantKeyUsage> logger)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<(string Tenant, string Provider), DateTimeOffset> _stamped = new();
    private Task _last = Task.CompletedTask;

    /// <summary>The stamp written last, so tests can wait on it instead of sleeping.</summary>
    internal Task LastWrite => Volatile.Read(ref _last);

    public void Touch(string tenant, string provider)
    {
        var now = time.GetUtcNow();
        var key = (tenant, provider);
        if (_stamped.TryGetValue(key, out var last))
        {
            if (now - last < Interval || !_stamped.TryUpdate(key, now, last))
                return;
        }
        else if (!_stamped.TryAdd(key, now))
        {
            return;
        }
        Volatile.Write(ref _last, Task.Run(() => WriteAsync(tenant, provider, now)));
    }

    /// <summary>Forgets the stamps of a key just replaced or deleted, so its next use is stamped at once.</summary>
    public void Forget(string tenant, string provider) => _stamped.TryRemove((tenant, provider), out _);

    private async Task WriteAsync(string tenant, string provider, DateTimeOffset when)
    {
        using var timeout = new CancellationTokenSource(WriteTimeout, time);
        try
        {
            await store.StampLastUsedAsync(tenant, provider, when, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or Azure.RequestFailedException || Admin.StorageFailure.Is(e))
        {
            // Only a metadata stamp: the next use a minute later tries again.
            LogStampFailed(logger, provider, e.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not stamp last use of a tenant's {Provider} key ({Failure})")]
    private static partial void LogStampFailed(ILogger logger, string provider, string failure);
}
