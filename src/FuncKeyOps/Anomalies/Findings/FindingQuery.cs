namespace FuncKeyOps.Anomalies.Findings;

/// <summary>
/// Which findings a list reads: windows starting in [<see cref="From"/>, <see cref="To"/>), and each filter that is
/// set (equality on the stored column).
/// </summary>
internal sealed record FindingQuery(DateTimeOffset From, DateTimeOffset To, FindingStatus? Status = null, string? Detector = null, string? Subject = null);
