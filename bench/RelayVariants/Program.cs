using FuncKeyOps.Audit;
using FuncKeyOps.Providers;
using FuncKeyOps.Quotas;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Server;
using Microsoft.Extensions.DependencyInjection.Extensions;

// The Server host exactly as shipped (ServerApp.Build), with one stage replaced according to BENCH_RELAY_VARIANT:
//   full           nothing replaced (must measure like the Server host itself)
//   no-audit       audit rows are dropped instead of written to Table Storage
//   no-quota       the quota gate admits everything without counting
//   no-audit-no-quota
var variant = Environment.GetEnvironmentVariable("BENCH_RELAY_VARIANT") ?? "full";
var app = ServerApp.Build(args, builder =>
{
    var services = builder.Services;
    if (variant is "no-audit" or "no-audit-no-quota")
        services.Replace(ServiceDescriptor.Singleton<IAuditSink, DroppingAuditSink>());
    if (variant is "no-quota" or "no-audit-no-quota")
        services.Replace(ServiceDescriptor.Singleton<IQuotaGate, OpenQuotaGate>());
    if (variant is not ("full" or "no-audit" or "no-quota" or "no-audit-no-quota"))
        throw new ArgumentException($"Unknown BENCH_RELAY_VARIANT '{variant}'.");
});
// What the audit writer holds: read by run.sh right after a load run ends.
app.MapGet("/bench/audit", (AuditWriter writer) => $"audit_pending={writer.PendingCount} audit_dropped={writer.DroppedCount}");
await app.RunAsync();

internal sealed class DroppingAuditSink : IAuditSink
{
    public void Enqueue(AuditRecord record)
    {
    }
}

internal sealed class OpenQuotaGate : IQuotaGate
{
    public ValueTask<QuotaDecision> TryAcquireAsync(RelayKey key, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(QuotaDecision.Allow);

    public void RecordUsage(RelayKey key, TokenUsage usage)
    {
    }
}
