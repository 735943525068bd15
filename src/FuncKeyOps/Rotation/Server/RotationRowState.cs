using Azure;

namespace FuncKeyOps.Rotation.Server;

/// <summary>The columns of a <c>rotations</c> row the Server driver reads (<see cref="RotationColumns"/>), and the row's ETag.</summary>
public sealed record RotationRowState(
    RotationId Rotation,
    RotationStatus Status,
    int StepIndex,
    DateTimeOffset? NextDue,
    string? LeaseOwner,
    DateTimeOffset? LeaseUntil,
    ETag ETag,
    long Fence = 0)
{
    /// <summary>No driver holds the row: never leased, released, or its holder stopped renewing (crashed) and the lease ran out.</summary>
    public bool IsLeaseFree(DateTimeOffset now) => string.IsNullOrEmpty(LeaseOwner) || LeaseUntil is not { } until || until <= now;

    public bool IsHeldBy(string owner) => string.Equals(LeaseOwner, owner, StringComparison.Ordinal);

    /// <summary>Its next step may run: still running and its wait (a hold, a grace, a poll) is over.</summary>
    public bool IsDue(DateTimeOffset now) => Status == RotationStatus.Running && NextDue is { } due && due <= now;
}
