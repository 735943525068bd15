namespace FuncKeyOps.Anomalies.Detection;

/// <summary>
/// How the absolute detectors grade what they find: past the threshold is <see cref="FindingSeverity.Medium"/>; past ten
/// times it is <see cref="FindingSeverity.High"/>, since at that size it is no longer a busy hour but a leak or an
/// attack (and contain-by-policy is what an operator would want done before reading it).
/// </summary>
internal static class Severity
{
    public const double HighMultiple = 10;

    public static FindingSeverity ByMultiple(double observed, double threshold) =>
        observed > threshold * HighMultiple ? FindingSeverity.High : FindingSeverity.Medium;
}
