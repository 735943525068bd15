using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Sweep;
using FuncKeyOps.Storage;
using FuncKeyOps.Tests.Rotation;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.DependencyInjection;
using static FuncKeyOps.Tests.Anomalies.SweepRows;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// A sweep run cut short at each of its writes (every table write it makes: checkpoint and lease, rollups, baselines,
/// known sources; and every hand-over of a finding to the responder), before the write is sent and after it was (its
/// answer lost), then the next run once the crashed one's lease has run out: the tables and the findings handed over
/// end as after a run without a crash. What the responder does with a finding handed over twice (stored once, acted
/// and alerted once) is <see cref="FindingResponderTests"/>'.
/// </summary>
public class SweepCrashTests
{
    private static readonly SweepWindow W0 = SweepHarness.FirstWindow;
    private static readonly SweepWindow W1 = W0.Next;

    [Fact]
    public async Task A_crash_at_any_write_of_a_run_then_the_next_run_ends_as_a_run_without_a_crash()
    {
        var (writes, expected) = await SweepAsync(crashAt: 0, afterSending: false);
        Assert.InRange(writes.Count, 5, 300);
        Assert.Contains(writes, w => w.StartsWith("respond", StringComparison.Ordinal));
        Assert.Contains(writes, w => w.Contains(TableNames.Anomalies, StringComparison.Ordinal));

        var failures = new List<string>();
        foreach (var afterSending in new[] { false, true })
        {
            for (var at = 1; at <= writes.Count; at++)
            {
                var (_, state) = await SweepAsync(at, afterSending);
                if (state != expected)
                    failures.Add($"crash {(afterSending ? "after" : "before")} write {at} ({writes[at - 1]}):\n{state}");
            }
        }
        Assert.True(failures.Count == 0, $"expected:\n{expected}\n\n{string.Join("\n\n", failures)}");
    }

    /// <summary>
    /// A first run (placing the checkpoint), two windows of rows, the run that sweeps them with a crash at write
    /// <paramref name="crashAt"/> (0: none), then, once a lease has run out, another run. Returns the writes of the
    /// crashed run (all of them when none crashed) and the end state.
    /// </summary>
    private static async Task<(IReadOnlyList<string> Writes, string State)> SweepAsync(int crashAt, bool afterSending)
    {
        var crash = new CrashAtAnyWrite();
        var tables = await TestTables.CreateAsync(policy: crash);
        var responder = new CrashingResponder(crash);
        await using var sweep = await SweepHarness.CreateAsync(tables: tables, configure: services => services.AddSingleton<IFindingResponder>(responder));
        await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        await sweep.SeedAsync(Times(21, i => FailedAuth(In(W0.Start, i), "203.0.113.66"))
            .Concat(Times(12, i => Call(In(W0.Start, i), i % 2 == 0 ? "rk-a" : "rk-b", source: "198.51.100." + (10 + i % 3))))
            .Concat(Times(8, i => Call(In(W1.Start, i), "rk-a", status: i < 2 ? 502 : 200, errorCode: i < 2 ? "provider_key_rejected" : null, upstreamStatus: i < 2 ? 401 : null))));
        sweep.MoveTo(W1.End + TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));

        crash.Arm(crashAt, afterSending);
        try
        {
            await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        }
        catch (SimulatedCrash)
        {
        }
        var writes = crash.Disarm();
        if (crashAt > 0)
            Assert.True(crash.Crashed, $"no crash at write {crashAt} of {writes.Count}");

        // The next run, after the crashed run's lease ran out (the window it is in still W1's successor, so nothing new is due).
        sweep.Time.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(1));
        var next = await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        Assert.Equal(SweepRunOutcome.Swept, next.Outcome);

        var findings = responder.Findings
            .Select(f => $"{f.Id} {f.Detector} {f.Subject} {f.WindowStart:HHmm} {f.Observed} {f.Severity}")
            .Distinct().Order(StringComparer.Ordinal);
        var state = string.Join("\n", findings.Concat(await DumpAsync(tables, TableNames.Anomalies)).Concat(await DumpAsync(tables, TableNames.Rollups))
            .Concat(await DumpAsync(tables, TableNames.Baselines)));
        return (writes, state);
    }

    /// <summary>Every row of a table as text (keys included), leaving out what says when a run happened or who held the lease.</summary>
    private static async Task<IEnumerable<string>> DumpAsync(TableStore tables, string logicalName)
    {
        var table = tables.Service.GetTableClient(tables.PhysicalName(logicalName));
        var rows = new List<string>();
        try
        {
            await foreach (var row in table.QueryAsync<TableEntity>())
            {
                var columns = row.Keys
                    .Where(k => k is not ("odata.etag" or "Timestamp") && !k.StartsWith("LastRun", StringComparison.Ordinal) && !k.StartsWith("Lease", StringComparison.Ordinal))
                    .OrderBy(k => k, StringComparer.Ordinal)
                    .Select(k => k + "=" + row[k]);
                rows.Add(logicalName + ": " + string.Join(" ", columns));
            }
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
        }
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }
}

/// <summary>
/// Counts every write of a run (a table request other than a read; a finding handed to the responder) and fails the
/// chosen one once, before it is sent or after it was: the crash of the process at that point.
/// </summary>
internal sealed class CrashAtAnyWrite : HttpPipelinePolicy
{
    private readonly object _gate = new();
    private readonly List<string> _writes = [];
    private int _at;
    private bool _afterSending;
    private bool _armed;

    public bool Crashed { get; private set; }

    public void Arm(int at, bool afterSending)
    {
        lock (_gate)
        {
            _writes.Clear();
            (_at, _afterSending, _armed, Crashed) = (at, afterSending, true, false);
        }
    }

    /// <summary>Stops counting; the writes counted since <see cref="Arm"/>.</summary>
    public IReadOnlyList<string> Disarm()
    {
        lock (_gate)
        {
            _armed = false;
            return [.. _writes];
        }
    }

    public async Task WriteAsync(string what, Func<Task> write)
    {
        bool crash;
        lock (_gate)
        {
            if (!_armed)
                crash = false;
            else
            {
                _writes.Add(what);
                crash = !Crashed && _writes.Count == _at;
                Crashed |= crash;
            }
        }
        if (crash && !_afterSending)
            throw new SimulatedCrash(what);
        await write();
        if (crash)
            throw new SimulatedCrash(what);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The store writes asynchronously.");

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (message.Request.Method == RequestMethod.Get)
            return ProcessNextAsync(message, pipeline);
        var path = message.Request.Uri.Path;
        return new ValueTask(WriteAsync($"{message.Request.Method} {path[(path.LastIndexOf('/') + 1)..]}", () => ProcessNextAsync(message, pipeline).AsTask()));
    }
}

/// <summary>A responder that keeps each finding handed to it, the hand-over being one of the run's writes (where it may crash).</summary>
internal sealed class CrashingResponder(CrashAtAnyWrite crash) : IFindingResponder
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<Finding> _findings = new();

    public IReadOnlyList<Finding> Findings => [.. _findings];

    public async Task<Finding> RespondAsync(Finding finding, CancellationToken cancellationToken)
    {
        await crash.WriteAsync($"respond {finding.Detector}", () =>
        {
            _findings.Enqueue(finding);
            return Task.CompletedTask;
        });
        return finding;
    }

    public Task RetryPendingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
