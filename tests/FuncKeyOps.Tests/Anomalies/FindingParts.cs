using System.Collections.Concurrent;
using Azure.Data.Tables;
using FuncKeyOps.Admin;
using FuncKeyOps.Alerts;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Actions;
using FuncKeyOps.Anomalies.Findings;
using FuncKeyOps.Rotation;
using FuncKeyOps.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>Findings as a detector hands them over, and reads of what responding to them left behind.</summary>
internal static class FindingParts
{
    /// <summary>A finding of the window before <paramref name="now"/>'s, as the sweep would hand it over.</summary>
    public static Finding NewFinding(string detector, string subject, FindingSeverity severity, DateTimeOffset now, DateTimeOffset? windowStart = null,
        double observed = 150, double threshold = 100)
    {
        var window = windowStart is { } start ? SweepWindow.Containing(start) : SweepWindow.Containing(now).Previous;
        return new Finding
        {
            Id = FindingId.For(detector, subject, window),
            Detector = detector,
            Subject = subject,
            WindowStart = window.Start,
            WindowEnd = window.End,
            Tenant = "tests",
            Observed = observed,
            Threshold = threshold,
            Severity = severity,
            Summary = $"{observed} calls against a threshold of {threshold}.",
            FoundAt = now,
        };
    }

    public static FindingResponder Responder(IServiceProvider services) => services.GetRequiredService<FindingResponder>();

    public static FindingStore Store(IServiceProvider services) => services.GetRequiredService<FindingStore>();

    /// <summary>The sweep's admin-trail rows about <paramref name="finding"/>'s subject or id: <c>route status target</c>.</summary>
    public static async Task<IReadOnlyList<string>> SweepTrailAsync(IServiceProvider services, Finding finding, string target)
    {
        var (events, _) = await services.GetRequiredService<AdminEventStore>()
            .PageAsync(finding.FoundAt.AddDays(-1), finding.FoundAt.AddDays(1), AdminEventStore.MaxPageSize, null, CancellationToken.None);
        return events.Where(e => e.Actor == SweepTrail.Actor && (e.Target == target || e.Target == finding.Id))
            .Select(e => $"{e.Method} {e.Route} {e.Status} {e.ErrorCode ?? "-"}")
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Every row of the <c>anomalies</c> table with this id, whatever its partition.</summary>
    public static async Task<int> StoredCopiesAsync(IServiceProvider services, string findingId)
    {
        var table = await services.GetRequiredService<TableStore>().GetTableAsync(TableNames.Anomalies);
        var count = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey eq {findingId}")))
            count++;
        return count;
    }

    /// <summary>The rotations of <paramref name="keyName"/> this finding started (any status).</summary>
    public static async Task<int> RotationsStartedForAsync(IServiceProvider services, string keyName, string findingId)
    {
        var table = await services.GetRequiredService<TableStore>().GetTableAsync(TableNames.Rotations);
        var count = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {keyName} and Reason eq {findingId} and Trigger eq {EmergencyRotation.Trigger}")))
            count++;
        return count;
    }
}

/// <summary>An <see cref="IRotationStarter"/> that fails the next <see cref="FailNext"/> starts (a vault or storage fault), then starts for real.</summary>
internal sealed class FlakyRotationStarter(IRotationStarter inner) : IRotationStarter
{
    public int FailNext { get; set; }
    public int Calls => Volatile.Read(ref _calls);
    private int _calls;

    public Task<RotationStart> StartAsync(RotationRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        if (FailNext > 0)
        {
            FailNext--;
            throw new Azure.RequestFailedException(503, "simulated storage fault");
        }
        return inner.StartAsync(request, cancellationToken);
    }
}

/// <summary>An alert sink that fails the next <see cref="FailNext"/> publishes, then records each dedupe key once, as the real ledger sends it once.</summary>
internal sealed class FlakyAlertSink : IAlertSink
{
    private readonly ConcurrentDictionary<string, Alert> _sent = new();

    public int FailNext { get; set; }

    public IReadOnlyList<Alert> For(string subject) => _sent.Values.Where(a => a.Subject == subject).ToList();

    public Task PublishAsync(Alert alert, CancellationToken cancellationToken)
    {
        if (FailNext > 0)
        {
            FailNext--;
            throw new HttpRequestException("simulated alert queue fault");
        }
        _sent.TryAdd(alert.DedupeKey, alert);
        return Task.CompletedTask;
    }
}
