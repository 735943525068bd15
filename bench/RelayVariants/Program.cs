using FuncKeyOps.Audit;
using FuncKeyOps.ClientKeys;
using FuncKeyOps.Providers;
using FuncKeyOps.Quotas;
using FuncKeyOps.Server;
using Microsoft.Extensions.DependencyInjection.Extensions;

// The Server host exactly as shipped (ServerApp.Build), with one stage replaced according to BENCH_RELAY_VARIANT:
//   full           nothing replaced (must measure like the Server host itself)
//   no-audit       audit rows are dropped instead of written to Table Storage
//   audit-linger   audit rows are held up to 100 ms and handed to the real writer together, so it writes full
//                  batches instead of one transaction per request at low rates (a possible fix, measured)
//   no-quota       the quota gate admits everything without counting
//   no-audit-no-quota
var variant = Environment.GetEnvironmentVariable("BENCH_RELAY_VARIANT") ?? "full";
var app = ServerApp.Build(args, builder =>
{
    var services = builder.Services;
    if (variant is "no-audit" or "no-audit-no-quota")
        services.Replace(ServiceDescriptor.Singleton<IAuditSink, DroppingAuditSink>());
    if (variant is "audit-linger")
        services.Replace(ServiceDescriptor.Singleton<IAuditSink>(sp => new LingeringAuditSink(sp.GetRequiredService<AuditWriter>(), TimeSpan.FromMilliseconds(100))));
    if (variant is "no-quota" or "no-audit-no-quota")
        services.Replace(ServiceDescriptor.Singleton<IQuotaGate, OpenQuotaGate>());
    if (variant is not ("full" or "no-audit" or "audit-linger" or "no-quota" or "no-audit-no-quota"))
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

/// <summary>Holds rows for up to <c>linger</c> and passes them on together (bench only: rows held at exit are lost).</summary>
internal sealed class LingeringAuditSink : IAuditSink
{
    private readonly IAuditSink _next;
    private readonly TimeSpan _linger;
    private readonly Lock _lock = new();
    private List<AuditRecord> _held = new(256);
    private bool _scheduled;

    public LingeringAuditSink(IAuditSink next, TimeSpan linger)
    {
        _next = next;
        _linger = linger;
    }

    public void Enqueue(AuditRecord record)
    {
        lock (_lock)
        {
            _held.Add(record);
            if (_scheduled)
                return;
            _scheduled = true;
        }
        _ = PassOnLaterAsync();
    }

    private async Task PassOnLaterAsync()
    {
        await Task.Delay(_linger).ConfigureAwait(false);
        List<AuditRecord> rows;
        lock (_lock)
        {
            rows = _held;
            _held = new List<AuditRecord>(Math.Max(256, rows.Count));
            _scheduled = false;
        }
        foreach (var row in rows)
            _next.Enqueue(row);
    }
}
