namespace FuncKeyOps.Rotation;

/// <summary>What each <see cref="RotationStrategy"/> runs (DESIGN.md, Rotation).</summary>
public static class RotationPlans
{
    /// <summary>A hold when neither the request nor the policy sets one: long enough for real traffic to reach the analysis.</summary>
    public static readonly TimeSpan DefaultHold = TimeSpan.FromMinutes(10);

    /// <summary>Canary rolls back when more than 1 % of the new version's calls fail.</summary>
    public const double MaxErrorRate = 0.01;

    /// <summary>Fewer calls than this on the new version say nothing about it: the analysis passes.</summary>
    public const int DefaultMinRequests = 20;

    public static readonly IReadOnlyList<int> CanaryWeights = [1, 5, 10, 25, 50, 100];

    /// <summary>
    /// Only the revoke of a version that already serves nothing, after <paramref name="grace"/>: a replacement made
    /// outside a rotation (a tenant storing a new value of its own key, validated and activated at once) leaves the
    /// old version to the engine, so its revoke survives restarts and runs in either host.
    /// </summary>
    public static RotationPlan RevokeAfterGrace(TimeSpan grace) => new([RotationStep.Revoke(grace), RotationStep.Rollback()]);

    /// <param name="holdsOverride">The admin call's <c>holds</c> (drills, tests): replaces every hold, and the grace
    /// only when longer than it.</param>
    /// <param name="grace">The revoke grace: <see cref="ProviderKeys.ProviderKeyStaleness.Bound"/>, so no instance still
    /// sends the old version when it is revoked. Nothing shortens it: a shorter wait would revoke a version some
    /// instance may still send, whoever asked for it. Only an emergency does without it, by having no revoke step
    /// (containment revokes at once: the leaked key is the danger, not the calls it fails).</param>
    public static RotationPlan For(RotationStrategy strategy, RotationPolicy policy, TimeSpan? holdsOverride, TimeSpan grace,
        int minRequests = DefaultMinRequests)
    {
        var hold = holdsOverride ?? policy.Holds ?? DefaultHold;
        var revokeGrace = holdsOverride > grace ? holdsOverride.Value : grace;
        List<RotationStep> steps = strategy switch
        {
            RotationStrategy.Canary =>
            [
                RotationStep.Create(),
                RotationStep.Validate(),
                .. CanaryWeights.SelectMany(w => new[] { RotationStep.Shift(w, hold), RotationStep.Analyze(MaxErrorRate, minRequests) }),
                RotationStep.Revoke(revokeGrace),
            ],
            RotationStrategy.BlueGreen =>
            [
                RotationStep.Create(),
                RotationStep.Validate(hold),
                RotationStep.Shift(100, TimeSpan.Zero),
                RotationStep.Revoke(revokeGrace),
            ],
            RotationStrategy.Immediate =>
            [
                RotationStep.Create(),
                RotationStep.Validate(),
                RotationStep.Shift(100, TimeSpan.Zero),
                RotationStep.Revoke(revokeGrace),
            ],
            // The leaked key is the danger, not the outage: revoke first, then make and serve the successor.
            RotationStrategy.Emergency =>
            [
                RotationStep.Contain(),
                RotationStep.Create(),
                RotationStep.Validate(),
                RotationStep.Shift(100, TimeSpan.Zero),
            ],
            _ => throw new ArgumentOutOfRangeException(nameof(strategy)),
        };
        steps.Add(RotationStep.Rollback());
        return new RotationPlan(steps);
    }
}
