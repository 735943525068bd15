namespace FuncKeyOps.Rotation;

/// <summary>
/// STUB for the daily schedule both hosts run (start rotations of keys past their period through
/// <see cref="IRotationStarter"/>, alert for keys in their warning window); the Server driver's work replaces this
/// file. It throws so a schedule wired to the stub cannot pass for one that works.
/// </summary>
public sealed class RotationSchedule
{
    public Task RunAsync(CancellationToken cancellationToken) =>
        throw new NotSupportedException("The rotation schedule is not implemented yet.");
}
