namespace FuncKeyOps.Rotation.Server;

/// <summary>The Server host's rotation driver; configuration section <c>Rotation</c>.</summary>
public sealed class RotationDriverOptions
{
    public const string Section = "Rotation";

    /// <summary>
    /// False: this instance runs no rotation steps and no daily schedule, and leaves the rows to the instances that do
    /// (they lease them). For instances that should only relay, and for tests that run the steps themselves.
    /// </summary>
    public bool Drive { get; set; } = true;

    /// <summary>How often the driver looks for due rows when nothing wakes it (a start or an abort on this instance does).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a leased row stays with this instance without being renewed (it is renewed after each step). Longer than
    /// any one step: steps return their waits instead of sleeping, so a step is a few provider and vault calls. It is
    /// also how long a rotation pauses after its driver crashed, before another instance takes the row over; a step still
    /// under way when it runs out is cancelled, since the row may have been taken over.
    /// </summary>
    public TimeSpan LeaseLength { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a row whose step threw stays leased before a driver tries the step again.</summary>
    public TimeSpan StepRetryDelay { get; set; } = TimeSpan.FromSeconds(30);
}
