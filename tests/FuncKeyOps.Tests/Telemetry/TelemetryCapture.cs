using System.Collections.ObjectModel;
using System.Diagnostics;
using FuncKeyOps.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace FuncKeyOps.Tests.Telemetry;

/// <summary>
/// A host's OpenTelemetry pipeline subscribed as the hosts' exporters are (<see cref="TelemetryRegistration.WithFuncKeyOps"/>),
/// with in-memory exporters. The span source is static and meters are listened to by name, so calls of other tests'
/// hosts running meanwhile land here too: tests pick theirs by a relay key id or model of their own.
/// </summary>
internal sealed class TelemetryCapture
{
    private readonly LockedCollection<Activity> _spans = new();
    private readonly LockedCollection<MetricSnapshot> _metrics = new();

    public void AddTo(IServiceCollection services) => services.AddOpenTelemetry().WithFuncKeyOps()
        .WithTracing(tracing => tracing.AddInMemoryExporter(_spans))
        .WithMetrics(metrics => metrics.AddInMemoryExporter(_metrics));

    /// <summary>Every span ended so far (the relay ends a call's span before it enqueues the call's audit row).</summary>
    public IReadOnlyList<Activity> Spans => _spans.Snapshot();

    public IReadOnlyList<Activity> SpansTagged(string tag, string value) =>
        Spans.Where(span => span.GetTagItem(tag) as string == value).ToList();

    /// <summary>Collects the metrics now and returns every point recorded so far.</summary>
    public IReadOnlyList<(string Metric, MetricPoint Point)> CollectMetrics(IServiceProvider services)
    {
        Assert.True(services.GetRequiredService<MeterProvider>().ForceFlush());
        // Cumulative snapshots: the last export holds every point so far.
        return _metrics.Snapshot().GroupBy(m => m.Name).Select(g => g.Last())
            .SelectMany(m => m.MetricPoints.Select(p => (m.Name, p))).ToList();
    }

    public static IReadOnlyDictionary<string, object?> Tags(MetricPoint point)
    {
        var tags = new Dictionary<string, object?>();
        foreach (var tag in point.Tags)
            tags[tag.Key] = tag.Value;
        return tags;
    }

    /// <summary>The exporters add from the threads that end spans and collect metrics; the tests read meanwhile.</summary>
    private sealed class LockedCollection<T> : Collection<T>
    {
        private readonly Lock _lock = new();

        protected override void InsertItem(int index, T item)
        {
            lock (_lock)
                base.InsertItem(index, item);
        }

        protected override void ClearItems()
        {
            lock (_lock)
                base.ClearItems();
        }

        public IReadOnlyList<T> Snapshot()
        {
            lock (_lock)
                return [.. Items];
        }
    }
}
