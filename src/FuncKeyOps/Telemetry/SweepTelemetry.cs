using System.Diagnostics;
using System.Diagnostics.Metrics;
using FuncKeyOps.Anomalies;

namespace FuncKeyOps.Telemetry;

/// <summary>
/// The anomaly sweep's spans (one per run, per window, per detector and per check) and metrics. Tags are bounded sets:
/// detector names, severities, window ids; never a subject (a relay key id or an address would grow without bound).
/// </summary>
public sealed class SweepTelemetry
{
    public const string LagMetric = "fko.sweep.lag";
    public const string RowsMetric = "fko.sweep.rows";
    public const string FindingsMetric = "fko.findings";
    public const string Detector = "fko.detector";
    public const string Severity = "fko.severity";
    public const string Window = "fko.sweep.window";
    public const string WindowClosed = "fko.sweep.window.closed";
    public const string Rows = "fko.sweep.rows";
    public const string Findings = "fko.sweep.findings";
    public const string Outcome = "fko.sweep.outcome";
    public const string Check = "fko.sweep.check";

    private readonly Counter<long> _rows;
    private readonly Counter<long> _findings;
    // Seconds, as a double's bits: written by the run, read by the gauge's callback on the exporter's thread.
    private long _lagBits = BitConverter.DoubleToInt64Bits(double.NaN);

    public SweepTelemetry(IMeterFactory meters)
    {
        var meter = meters.Create(FuncKeyOpsTelemetry.ServiceName);
        _rows = meter.CreateCounter<long>(RowsMetric, "{row}", "Audit rows the anomaly sweep read.");
        _findings = meter.CreateCounter<long>(FindingsMetric, "{finding}", "Findings of closed windows and per-run checks, by detector and severity.");
        meter.CreateObservableGauge(LagMetric, ObserveLag, "s", "How far behind the sweep is: time since the end of the last closed window swept, as of the last run.");
    }

    private IEnumerable<Measurement<double>> ObserveLag()
    {
        var lag = BitConverter.Int64BitsToDouble(Interlocked.Read(ref _lagBits));
        return double.IsNaN(lag) ? [] : [new Measurement<double>(lag)];
    }

    internal void RecordLag(TimeSpan lag) => Interlocked.Exchange(ref _lagBits, BitConverter.DoubleToInt64Bits(lag.TotalSeconds));

    internal void RecordRows(long rows)
    {
        if (rows > 0)
            _rows.Add(rows);
    }

    internal void RecordFinding(Finding finding) =>
        _findings.Add(1, new KeyValuePair<string, object?>(Detector, finding.Detector), new KeyValuePair<string, object?>(Severity, finding.Severity.ToString().ToLowerInvariant()));

    internal static Activity? StartRun(bool includeOpenWindow)
    {
        var span = FuncKeyOpsTelemetry.Source.StartActivity("sweep", ActivityKind.Internal);
        span?.SetTag("fko.sweep.include_open_window", includeOpenWindow);
        return span;
    }

    internal static void FinishRun(Activity? span, Anomalies.Sweep.SweepRunResult result)
    {
        if (span is null)
            return;
        span.SetTag(Outcome, result.Outcome.ToString());
        span.SetTag("fko.sweep.windows", result.Windows.Count);
        span.SetTag(Rows, result.Rows);
        span.SetTag(Findings, result.Findings);
    }

    internal static Activity? StartWindow(SweepWindow window, bool closed)
    {
        var span = FuncKeyOpsTelemetry.Source.StartActivity("sweep window", ActivityKind.Internal);
        span?.SetTag(Window, window.Id);
        span?.SetTag(WindowClosed, closed);
        return span;
    }

    internal static void FinishWindow(Activity? span, long rows, int findings)
    {
        span?.SetTag(Rows, rows);
        span?.SetTag(Findings, findings);
    }

    internal static Activity? StartDetector(string detector)
    {
        var span = FuncKeyOpsTelemetry.Source.StartActivity("detect " + detector, ActivityKind.Internal);
        span?.SetTag(Detector, detector);
        return span;
    }

    internal static Activity? StartCheck(string check)
    {
        var span = FuncKeyOpsTelemetry.Source.StartActivity("sweep check " + check, ActivityKind.Internal);
        span?.SetTag(Check, check);
        return span;
    }

    /// <summary>The exception's type only: a message may quote what a store or provider said.</summary>
    internal static void Failed(Activity? span, Exception exception)
    {
        span?.SetTag(GenAiConventions.ErrorType, exception.GetType().FullName);
        span?.SetStatus(ActivityStatusCode.Error);
    }
}
