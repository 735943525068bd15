namespace FuncKeyOps.Rotation;

/// <summary>
/// What differs between the hosts when a rotation starts or is aborted: the Functions app schedules (or signals)
/// the Durable orchestration <c>rotation-{keyName}</c>; the Server host's driver finds due rows itself and is only
/// nudged. The rotation row is written by the library before either is called.
/// </summary>
public interface IRotationDriver
{
    /// <summary>
    /// True when this driver still runs a rotation of the key (for Durable: an instance <c>rotation-{keyName}</c>
    /// that is pending or running), so a second start answers 409 instead of replacing it.
    /// </summary>
    Task<bool> IsRunningAsync(string keyName, CancellationToken cancellationToken);

    /// <summary>Begins driving a rotation whose row was just written with step index 0.</summary>
    Task ScheduleAsync(RotationId rotation, CancellationToken cancellationToken);

    /// <summary>Wakes the driver so an abort recorded on the row interrupts a hold now instead of when it ends.</summary>
    Task SignalAbortAsync(RotationId rotation, CancellationToken cancellationToken);
}
