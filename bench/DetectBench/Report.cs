using System.Globalization;
using System.Text;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Detection;

namespace FuncKeyOps.Bench.DetectBench;

/// <summary>
/// Scores the findings against the incidents. A finding of an incident's detector on its subject within its span (and
/// two windows after it; the day for budgets, the hours for provider reports) finds it. A finding of another detector on
/// a subject an incident touched in its span (the relay key, its provider key version, the sources) is a side finding:
/// the incident's doing, not a false one. Every other finding is false.
/// </summary>
internal sealed class Report
{
    private const double FalsePerMillionTarget = 1;
    private const int RelaySideWindowsTarget = 2;
    private readonly Bench _bench;
    private readonly List<(Finding Finding, int Swept)> _side = [];
    private readonly List<(Finding Finding, int Swept)> _false = [];

    public Report(Bench bench)
    {
        _bench = bench;
        foreach (var (finding, swept) in bench.Findings.Values.OrderBy(f => f.Finding.WindowStart))
        {
            var own = bench.Incidents.Where(i => i.Detector == finding.Detector && Matches(i, finding)).ToList();
            foreach (var incident in own)
                incident.Found.Add(finding);
            if (own.Count > 0)
                continue;
            if (bench.Incidents.Any(i => Touches(i, finding)))
                _side.Add((finding, swept));
            else
                _false.Add((finding, swept));
        }
    }

    public bool Passed { get; private set; }

    private static bool Matches(Incident incident, Finding finding)
    {
        if (incident.FindingSubject != finding.Subject)
            return false;
        if (incident.Detector == Detectors.Budget)
            return finding.WindowStart <= incident.Start && incident.Start < finding.WindowEnd;
        if (incident.ProviderSide)
            return finding.WindowStart < incident.End && finding.WindowEnd > incident.Start;
        return finding.WindowStart >= Population.WindowAt(incident.StartWindow).Start && finding.WindowStart < incident.End + 2 * SweepWindow.Length;
    }

    private bool Touches(Incident incident, Finding finding)
    {
        if (finding.WindowStart >= incident.End + 2 * SweepWindow.Length || finding.WindowEnd <= Population.WindowAt(incident.StartWindow).Start)
            return false;
        if (finding.Subject == incident.FindingSubject)
            return true;
        if (incident.Kind is "auth_failures" or "auth_failures_total")
            return finding.Subject.StartsWith("source:", StringComparison.Ordinal);
        if (incident.FindingSubject is { } flooded && flooded.StartsWith("provider-key:", StringComparison.Ordinal))
        {
            // A provider key's incident touches the relay keys calling it.
            return finding.Subject.StartsWith("relay-key:", StringComparison.Ordinal)
                && flooded.StartsWith($"provider-key:{_bench.Population.Key(finding.Subject["relay-key:".Length..]).ProviderKey.Name}/", StringComparison.Ordinal);
        }
        if (incident.FindingSubject is { } subject && subject.StartsWith("relay-key:", StringComparison.Ordinal))
        {
            var key = _bench.Population.Key(subject["relay-key:".Length..]);
            return finding.Subject.StartsWith($"provider-key:{key.ProviderKey.Name}/", StringComparison.Ordinal);
        }
        return false;
    }

    public string Render(TimeSpan elapsed)
    {
        var text = new StringBuilder();
        void Line(FormattableString line) => text.AppendLine(FormattableString.Invariant(line));
        var million = _bench.NormalCalls / 1e6;
        Line($"bench/detect: {_bench.Population.RelayKeys.Count} relay keys, {_bench.Population.ProviderKeys.Count} provider keys, {_bench.WindowsSwept} windows ({_bench.WindowsSwept / 288.0:0.#} days from {Population.Start:yyyy-MM-dd}), {_bench.NormalCalls:N0} normal calls, {_bench.Rows:N0} rows, {_bench.Incidents.Count} incidents, {elapsed.TotalSeconds:0} s");
        Line($"");
        Line($"{"detector",-22} {"injected",8} {"over",5} {"found",6} {"missed",7} {"under",6} {"under hit",10} {"n/a",4} {"windows to find max/median",27} {"side",5} {"false",6} {"false per 1M calls",19}");
        var failures = new List<string>();
        foreach (var detector in Detectors.All)
        {
            var incidents = _bench.Incidents.Where(i => i.Detector == detector).ToList();
            var placed = incidents.Where(i => i.Over is not null && i.Note is null).ToList();
            var over = placed.Where(i => i.Over == true).ToList();
            var under = placed.Where(i => i.Over == false).ToList();
            var found = over.Where(i => i.Found.Count > 0).ToList();
            var underHit = under.Count(i => i.Found.Count > 0);
            var latencies = found.Select(Latency).Order().ToList();
            var falses = _false.Count(f => f.Finding.Detector == detector);
            var side = _side.Count(f => f.Finding.Detector == detector);
            var latency = latencies.Count == 0 ? "-" : FormattableString.Invariant($"{latencies[^1]} / {latencies[latencies.Count / 2]}");
            Line($"{detector,-22} {incidents.Count,8} {over.Count,5} {found.Count,6} {over.Count - found.Count,7} {under.Count,6} {underHit,10} {incidents.Count - placed.Count,4} {latency,27} {side,5} {falses,6} {falses / million,19:0.000}");
            if (over.Count - found.Count > 0)
                failures.Add($"{detector}: {over.Count - found.Count} incidents over the threshold missed");
            if (underHit > 0)
                failures.Add($"{detector}: {underHit} incidents under the threshold found");
            if (incidents.Count != placed.Count)
                failures.Add($"{detector}: {incidents.Count - placed.Count} incidents could not be placed (see below)");
            if (over.Count == 0 || under.Count == 0)
                failures.Add($"{detector}: the list needs at least one incident over and one under the threshold");
            if (detector is not (Detectors.Budget or Detectors.ShadowUsage or Detectors.RetiredKeyUse) && latencies.Count > 0 && latencies[^1] > RelaySideWindowsTarget)
                failures.Add($"{detector}: found {latencies[^1]} windows after the start (target {RelaySideWindowsTarget})");
        }
        var totalFalse = _false.Count / million;
        Line($"{"all",-22} {_bench.Incidents.Count,8} {"",5} {"",6} {"",7} {"",6} {"",10} {"",4} {"",27} {_side.Count,5} {_false.Count,6} {totalFalse,19:0.000}");
        if (totalFalse > FalsePerMillionTarget)
            failures.Add($"{_false.Count} false findings, {totalFalse:0.000} per million normal calls (target at most {FalsePerMillionTarget})");
        Line($"");
        Line($"windows to find: sweep windows from the incident's first window to the one whose sweep raised it (1 = its own); provider reports count to the sweep after the hour settled (Anomalies:UsageSettle), budgets to the sweep that saw the level crossed.");
        Line($"");
        Line($"incidents (line kind subject start size: threshold observed -> result):");
        foreach (var incident in _bench.Incidents)
        {
            var result = incident.Note is { } note ? "NOT PLACED: " + note
                : incident.Over is null ? "NOT PLACED"
                : incident.Over == true ? (incident.Found.Count > 0 ? FormattableString.Invariant($"found in {Latency(incident)} ({string.Join(", ", incident.Found.Select(f => f.Severity).Distinct())})") : "MISSED")
                : incident.Found.Count > 0 ? "FOUND UNDER THE THRESHOLD" : "not found (under)";
            Line($"  {incident.Line,3} {incident.Kind,-22} {incident.Subject,-13} {incident.Start:yyyy-MM-ddTHH:mm} {(incident.Relative ? "x" : "")}{incident.Size,-6}: {incident.Threshold,10:0.###} {incident.Observed,12:0.###} -> {result}");
        }
        if (_false.Count > 0)
        {
            Line($"");
            Line($"false findings:");
            foreach (var (finding, _) in _false.Take(50))
                Line($"  {finding.Detector} {finding.Subject} {finding.WindowStart:yyyy-MM-ddTHH:mm} observed {finding.Observed:0.###} threshold {finding.Threshold:0.###}: {finding.Summary}");
        }
        Line($"");
        Passed = failures.Count == 0;
        Line($"targets (issue 21): every incident over its threshold found, none under it; relay-side ones within {RelaySideWindowsTarget} windows; at most {FalsePerMillionTarget} false finding per million normal calls: {(Passed ? "MET" : "MISSED")}");
        foreach (var failure in failures)
            Line($"  MISSED: {failure}");
        return text.ToString();
    }

    private static int Latency(Incident incident)
    {
        var first = incident.Found.Min(f => f.FoundAt);
        var start = Population.WindowAt(incident.StartWindow).Start;
        if (!incident.RelaySide)
            return (int)Math.Ceiling((first - start).Ticks / (double)SweepWindow.Length.Ticks);
        return Population.IndexOf(incident.Found.Min(f => f.WindowStart)) - incident.StartWindow + 1;
    }
}
