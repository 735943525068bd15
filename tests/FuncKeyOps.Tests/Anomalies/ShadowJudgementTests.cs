using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.ShadowUsage;
using FuncKeyOps.ProviderKeys;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>The line between tolerated and shadow usage, each side of every threshold, with the default settings.</summary>
public sealed class ShadowJudgementTests
{
    private static readonly DateTimeOffset Hour = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);
    private static readonly ShadowUsageOptions Defaults = new();

    private static readonly ShadowTarget Target = new(
        new ProviderKeyConfig { Name = "openai-main", Provider = "openai", BaseUrl = new Uri("https://api.openai.com/"), SecretName = "openai-main", Tenant = "tenant-a" },
        "v3", "svc_acct_1/key_abc", "key_abc", RevokedAt: null);

    private static Finding? Judge(ProviderHourUsage provider, RelayHourUsage relay, ShadowTarget? target = null) =>
        ShadowJudgement.Judge(target ?? Target, Hour, provider, relay, ShadowUsageCheck.Settled, Defaults, Hour.AddHours(3));

    [Theory]
    [InlineData(0, 5, false)] // 5 more than a silent relay: at the floor, tolerated
    [InlineData(0, 6, true)]
    [InlineData(100, 105, false)] // 3 % of 100 is under the floor of 5
    [InlineData(100, 106, true)]
    [InlineData(1_000, 1_030, false)] // 3 % of 1,000 is 30, over the floor
    [InlineData(1_000, 1_031, true)]
    public void Requests_beyond_the_floor_or_the_share_of_the_relay_are_shadow_usage(long relayCalls, long providerRequests, bool found)
    {
        var finding = Judge(new ProviderHourUsage(providerRequests, 0, 0), new RelayHourUsage(relayCalls, 0, 0));

        Assert.Equal(found, finding is not null);
        if (finding is not null)
            Assert.Equal((Detectors.ShadowUsage, (double)(providerRequests - relayCalls)), (finding.Detector, finding.Observed));
    }

    [Theory]
    [InlineData(0, 20_000, false)]
    [InlineData(0, 20_001, true)]
    [InlineData(1_000_000, 1_030_000, false)] // 3 % of a million is 30,000
    [InlineData(1_000_000, 1_030_001, true)]
    public void Tokens_beyond_the_floor_or_the_share_of_the_relay_are_shadow_usage_without_a_request_count(long relayTokens, long providerTokens, bool found)
    {
        var finding = Judge(new ProviderHourUsage(null, providerTokens, 0), new RelayHourUsage(10, relayTokens, 0));

        Assert.Equal(found, finding is not null);
        if (finding is not null)
            Assert.Equal(((double)(providerTokens - relayTokens), Math.Max(20_000, relayTokens * 3.0 / 100)), (finding.Observed, finding.Threshold));
    }

    [Theory]
    [InlineData(10, 100, FindingSeverity.Medium)] // ten times the relay's: not over it
    [InlineData(10, 101, FindingSeverity.High)]
    [InlineData(0, 6, FindingSeverity.High)] // none of it through the relay
    public void Over_ten_times_the_relay_in_the_hour_is_high_severity(long relayCalls, long providerRequests, FindingSeverity severity) =>
        Assert.Equal(severity, Judge(new ProviderHourUsage(providerRequests, 0, 0), new RelayHourUsage(relayCalls, 0, 0))!.Severity);

    [Fact]
    public void Less_than_the_relay_sent_is_never_a_finding() =>
        Assert.Null(Judge(new ProviderHourUsage(0, 0, 0), new RelayHourUsage(5_000, 9_000_000, 1_000_000)));

    [Fact]
    public void After_the_revoke_any_use_is_retired_key_use_and_in_the_revoke_hour_the_shadow_rule_applies()
    {
        var usage = new ProviderHourUsage(1, 20, 5);

        var after = Judge(usage, RelayHourUsage.None, Target with { RevokedAt = Hour });
        var during = Judge(usage, RelayHourUsage.None, Target with { RevokedAt = Hour.AddMinutes(30) });

        Assert.Equal((Detectors.RetiredKeyUse, FindingSeverity.High, 1.0, 0.0), (after!.Detector, after.Severity, after.Observed, after.Threshold));
        Assert.Equal(FindingId.For(Detectors.RetiredKeyUse, "provider-key:openai-main/v3", Hour), after.Id);
        Assert.Null(during); // one call in the hour it was revoked: under the shadow floor
        Assert.Null(Judge(ProviderHourUsage.None, RelayHourUsage.None, Target with { RevokedAt = Hour }));
    }

    [Fact]
    public void A_finding_names_its_subject_tenant_hour_and_the_numbers_never_a_value()
    {
        var finding = Judge(new ProviderHourUsage(40, 700, 300), new RelayHourUsage(10, 200, 100))!;

        Assert.Equal(("provider-key:openai-main/v3", "tenant-a", Hour, Hour.AddHours(1)), (finding.Subject, finding.Tenant, finding.WindowStart, finding.WindowEnd));
        Assert.Equal(new Dictionary<string, string>
        {
            ["providerKeyId"] = "svc_acct_1/key_abc",
            ["provider"] = "openai",
            ["providerRequests"] = "40",
            ["providerTokens"] = "1000",
            ["relayCalls"] = "10",
            ["relayTokens"] = "300",
            ["gapRequests"] = "30",
            ["gapTokens"] = "700",
            ["judged"] = ShadowUsageCheck.Settled,
        }, finding.Details);
        Assert.Equal((30.0, 10.0, 5.0), (finding.Observed, finding.Baseline!.Value, finding.Threshold));
    }
}
