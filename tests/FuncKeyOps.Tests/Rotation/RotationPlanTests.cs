using FuncKeyOps.Rotation;

namespace FuncKeyOps.Tests.Rotation;

public class RotationPlanTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(42);

    [Fact]
    public void Canary_shifts_1_5_10_25_50_100_percent_each_with_a_hold_and_an_analysis_then_revokes_after_the_grace()
    {
        var plan = RotationPlans.For(RotationStrategy.Canary, RotationPolicy.Default, null, Grace);

        Assert.Equal(["create", "validate", "shift 1%", "analyze", "shift 5%", "analyze", "shift 10%", "analyze", "shift 25%", "analyze",
            "shift 50%", "analyze", "shift 100%", "analyze", "revoke", "rollback"], plan.Steps.Select(s => s.Name));
        Assert.All(plan.Steps.Where(s => s.Kind == RotationStepKind.Shift), s => Assert.Equal(RotationPlans.DefaultHold, s.Hold));
        Assert.All(plan.Steps.Where(s => s.Kind == RotationStepKind.Analyze), s => Assert.Equal(0.01, s.MaxErrorRate));
        Assert.Equal(Grace, plan.Steps[^2].Grace);
        Assert.Equal(plan.Steps.Count - 1, plan.RollbackIndex);
        Assert.Equal(Grace, plan.WaitAfter(plan.Steps.Count - 3)); // the analysis before the revoke waits the grace
    }

    [Theory]
    [InlineData(RotationStrategy.BlueGreen, new[] { "create", "validate", "shift 100%", "revoke", "rollback" })]
    [InlineData(RotationStrategy.Immediate, new[] { "create", "validate", "shift 100%", "revoke", "rollback" })]
    [InlineData(RotationStrategy.Emergency, new[] { "contain", "create", "validate", "shift 100%", "rollback" })]
    public void Each_strategy_has_its_steps(RotationStrategy strategy, string[] steps)
    {
        var plan = RotationPlans.For(strategy, RotationPolicy.Default, null, Grace);
        Assert.Equal(steps, plan.Steps.Select(s => s.Name));
    }

    [Fact]
    public void Blue_green_holds_after_validation_and_immediate_does_not()
    {
        var policy = RotationPolicy.Parse("""{"holds":"PT3M"}""");
        Assert.Equal(TimeSpan.FromMinutes(3), RotationPlans.For(RotationStrategy.BlueGreen, policy, null, Grace).WaitAfter(1));
        Assert.Equal(TimeSpan.Zero, RotationPlans.For(RotationStrategy.Immediate, policy, null, Grace).WaitAfter(1));
    }

    [Fact]
    public void The_policys_holds_never_shorten_the_grace_and_the_admin_override_replaces_every_hold_but_not_below_the_grace()
    {
        var policy = RotationPolicy.Parse("""{"holds":"PT1S"}""");
        var byPolicy = RotationPlans.For(RotationStrategy.Canary, policy, null, Grace);
        Assert.All(byPolicy.Steps.Where(s => s.Hold is not null), s => Assert.Equal(TimeSpan.FromSeconds(1), s.Hold));
        Assert.Equal(Grace, byPolicy.Steps[^2].Grace);

        var drill = RotationPlans.For(RotationStrategy.Canary, RotationPolicy.Default, TimeSpan.FromTicks(1), Grace);
        Assert.All(drill.Steps.Where(s => s.Hold is not null), s => Assert.Equal(TimeSpan.FromTicks(1), s.Hold));
        Assert.Equal(Grace, drill.Steps[^2].Grace);

        var longer = Grace + TimeSpan.FromMinutes(1);
        Assert.Equal(longer, RotationPlans.For(RotationStrategy.Immediate, RotationPolicy.Default, longer, Grace).Steps[^2].Grace);
    }

    [Fact]
    public void An_emergency_with_a_holds_override_still_revokes_first_and_waits_for_nothing()
    {
        var plan = RotationPlans.For(RotationStrategy.Emergency, RotationPolicy.Default, TimeSpan.FromTicks(1), Grace);
        Assert.Equal(["contain", "create", "validate", "shift 100%", "rollback"], plan.Steps.Select(s => s.Name));
        Assert.All(Enumerable.Range(0, plan.Steps.Count), i => Assert.Equal(TimeSpan.Zero, plan.WaitAfter(i)));
    }

    [Theory]
    [InlineData(RotationStrategy.Canary)]
    [InlineData(RotationStrategy.BlueGreen)]
    [InlineData(RotationStrategy.Immediate)]
    [InlineData(RotationStrategy.Emergency)]
    public void A_plan_survives_its_json(RotationStrategy strategy)
    {
        var plan = RotationPlans.For(strategy, RotationPolicy.Default, null, Grace);
        var json = plan.ToJson();
        Assert.Contains("\"kind\":\"Shift\"", json);
        Assert.Equal(plan.Steps, RotationPlan.FromJson(json).Steps);
    }
}
