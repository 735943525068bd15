namespace FuncKeyOps.Rotation;

/// <summary>Starts a rotation: writes its row and hands it to the host's <see cref="IRotationDriver"/>.</summary>
public interface IRotationStarter
{
    Task<RotationStart> StartAsync(RotationRequest request, CancellationToken cancellationToken);
}

public enum RotationStartOutcome { Started, AlreadyRunning, KeyNotFound }

/// <param name="Rotation">The rotation started, or the one already running (409 names it).</param>
public sealed record RotationStart(RotationStartOutcome Outcome, RotationId? Rotation);
