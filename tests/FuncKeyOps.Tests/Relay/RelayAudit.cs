using FuncKeyOps.Audit;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Relay;

internal static class RelayAudit
{
    /// <summary>Every audit row of the relay key, once every request has left the host and the writer has stored its rows.</summary>
    public static async Task<IReadOnlyList<AuditRecord>> RowsAsync(this RelayHost host, string? relayKeyId)
    {
        // A response can be complete at the client before the handler's finally (which enqueues the row) has run.
        await host.Server.WaitIdleAsync().WaitAsync(TimeSpan.FromSeconds(90));
        await host.Services.GetRequiredService<AuditWriter>().FlushAsync(CancellationToken.None);
        var query = host.Services.GetRequiredService<AuditQuery>();
        var now = DateTimeOffset.UtcNow;
        return await query.QueryAsync(now.AddHours(-1), now.AddMinutes(5), relayKeyId, 10_000, CancellationToken.None);
    }
}
