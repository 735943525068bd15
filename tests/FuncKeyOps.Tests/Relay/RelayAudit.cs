using FuncKeyOps.Audit;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Relay;

internal static class RelayAudit
{
    /// <summary>Every audit row of the relay key, after the writer has stored everything enqueued so far.</summary>
    public static async Task<IReadOnlyList<AuditRecord>> RowsAsync(this RelayHost host, string? relayKeyId)
    {
        await host.Services.GetRequiredService<AuditWriter>().FlushAsync(CancellationToken.None);
        var query = host.Services.GetRequiredService<AuditQuery>();
        var now = DateTimeOffset.UtcNow;
        return await query.QueryAsync(now.AddHours(-1), now.AddMinutes(5), relayKeyId, 10_000, CancellationToken.None);
    }
}
