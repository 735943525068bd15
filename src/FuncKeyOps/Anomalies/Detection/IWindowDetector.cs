namespace FuncKeyOps.Anomalies.Detection;

/// <summary>
/// A detector over one window's tally (<see cref="DetectionContext.Tally"/>), the pass every detector shares. Registered
/// with <c>TryAddEnumerable</c>; the sweep runs each in its own span. A detector returns findings and changes nothing:
/// what is done about them is the <see cref="IFindingResponder"/>'s.
/// </summary>
public interface IWindowDetector
{
    /// <summary>One of <see cref="Detectors"/>.</summary>
    string Name { get; }

    ValueTask<IReadOnlyList<Finding>> DetectAsync(DetectionContext context, CancellationToken cancellationToken);
}
