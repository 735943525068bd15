using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.ShadowUsage;
using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Tests.Rotation.Connectors;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// <see cref="ShadowUsageCheck"/> end to end: calls sent straight to the fake OpenAI and Anthropic with a vault key are
/// in the fakes' own usage reports, and the check finds them against the relay's audit rows, judged once settled and
/// again at 24 h by the fake clock.
/// </summary>
public sealed class ShadowUsageTests
{
    // FakeUsage's defaults: what the fakes bill and report per call.
    private const int Input = 11;
    private const int Output = 7;

    [Fact]
    public async Task Calls_straight_to_OpenAI_with_the_vault_key_are_shadow_usage_naming_the_version_and_the_gap()
    {
        await using var h = await ShadowHarness.StartAsync();
        var key = await h.AddOpenAIKeyAsync();
        await h.CallDirectAsync(key, 30);

        h.Time.SetUtcNow(new DateTimeOffset(2026, 12, 7, 13, 5, 0, TimeSpan.Zero)); // the hour from 10:00 settled at 13:00
        var run = await h.RunAsync();

        Assert.Empty(run.Warnings);
        var finding = Assert.Single(run.Findings);
        Assert.Equal((Detectors.ShadowUsage, key.Subject, ShadowHarness.CallHour), (finding.Detector, finding.Subject, finding.WindowStart));
        Assert.Equal(FindingId.For(Detectors.ShadowUsage, key.Subject, ShadowHarness.CallHour), finding.Id);
        Assert.Equal(FindingSeverity.High, finding.Severity); // all of it outside the relay
        Assert.Equal(30, finding.Observed);
        Assert.Equal(key.ProviderKeyId, finding.Details!["providerKeyId"]);
        Assert.Equal(("30", "0", "30", (30 * (Input + Output)).ToString(System.Globalization.CultureInfo.InvariantCulture), ShadowUsageCheck.Settled),
            (finding.Details["providerRequests"], finding.Details["relayCalls"], finding.Details["gapRequests"], finding.Details["gapTokens"], finding.Details["judged"]));
        Assert.Contains(key.UsageKeyId, finding.Summary, StringComparison.Ordinal);
        AssertNoSecret(h, key, run);

        // The 24 h judgement of the same hour gives the same finding id: the store adds nothing.
        h.Time.SetUtcNow(new DateTimeOffset(2026, 12, 8, 11, 5, 0, TimeSpan.Zero));
        var again = await h.RunAsync();
        var rejudged = Assert.Single(again.Findings, f => f.WindowStart == ShadowHarness.CallHour);
        Assert.Equal((finding.Id, ShadowUsageCheck.Rejudged), (rejudged.Id, rejudged.Details!["judged"]));
        Assert.Single(again.Findings); // the 22 hours judged settled on the way had no use
    }

    [Fact]
    public async Task Calls_straight_to_Anthropic_are_judged_on_tokens_since_its_report_counts_no_requests()
    {
        await using var h = await ShadowHarness.StartAsync();
        var key = await h.AddAnthropicKeyAsync();
        h.Anthropic.Usage = new FakeUsage(InputTokens: 5_000, OutputTokens: 1_000);
        await h.CallDirectAsync(key, 4); // 24,000 tokens: over the 20,000 floor

        h.Time.SetUtcNow(new DateTimeOffset(2026, 12, 7, 13, 5, 0, TimeSpan.Zero));
        var run = await h.RunAsync();

        Assert.Empty(run.Warnings);
        var finding = Assert.Single(run.Findings);
        Assert.Equal((Detectors.ShadowUsage, key.Subject, FindingSeverity.High), (finding.Detector, finding.Subject, finding.Severity));
        Assert.Equal(24_000, finding.Observed);
        Assert.Equal(20_000, finding.Threshold);
        Assert.Equal(("not reported", "24000", key.UsageKeyId), (finding.Details!["providerRequests"], finding.Details["gapTokens"], finding.Details["providerKeyId"]));
        AssertNoSecret(h, key, run);
    }

    [Fact]
    public async Task The_same_traffic_through_the_relay_raises_nothing_for_either_provider()
    {
        await using var h = await ShadowHarness.StartAsync();
        var openAI = await h.AddOpenAIKeyAsync();
        var anthropic = await h.AddAnthropicKeyAsync();
        h.Anthropic.Usage = new FakeUsage(InputTokens: 5_000, OutputTokens: 1_000);
        await h.CallDirectAsync(openAI, 30);
        await h.CallDirectAsync(anthropic, 4);
        // What the relay recorded of the same calls, plus attempts it gave up on that the provider never billed.
        await h.SeedRelayAsync(openAI, 30, ShadowHarness.Start, Input, Output, timedOut: 3);
        await h.SeedRelayAsync(anthropic, 4, ShadowHarness.Start, 5_000, 1_000, timedOut: 1);

        h.Time.SetUtcNow(new DateTimeOffset(2026, 12, 7, 13, 5, 0, TimeSpan.Zero));
        var run = await h.RunAsync();

        Assert.Empty(run.Warnings);
        Assert.Empty(run.Findings);
        Assert.Equal(2, run.HoursJudged);
        Assert.Equal(3, h.ReportRequests); // OpenAI's completions and embeddings, Anthropic's messages: each once
    }

    [Fact]
    public async Task A_usage_API_answering_500_is_a_warning_the_other_keys_go_on_and_the_next_run_judges_the_hour()
    {
        await using var h = await ShadowHarness.StartAsync();
        var failing = await h.AddOpenAIKeyAsync();
        var noCredential = await h.AddOpenAIKeyAsync(withAdminKey: false);
        var working = await h.AddAnthropicKeyAsync();
        h.Anthropic.Usage = new FakeUsage(InputTokens: 5_000, OutputTokens: 1_000);
        await h.CallDirectAsync(failing, 30);
        await h.CallDirectAsync(working, 4);
        h.OpenAI.Billing.FailReports(500);

        h.Time.SetUtcNow(new DateTimeOffset(2026, 12, 7, 13, 5, 0, TimeSpan.Zero));
        var run = await h.RunAsync();

        Assert.Equal(working.Subject, Assert.Single(run.Findings).Subject);
        Assert.Equal(2, run.Warnings.Count);
        Assert.Contains("500", Assert.Single(run.Warnings, w => w.ProviderKey == failing.Config.Name).Detail, StringComparison.Ordinal);
        Assert.Contains(AdminAccess.AdminKeySecretSetting, Assert.Single(run.Warnings, w => w.ProviderKey == noCredential.Config.Name).Detail, StringComparison.Ordinal);

        // Five minutes on, the API answers again: the failed key's hour is judged then, the others' are not read again.
        h.OpenAI.Billing.ReportsWork();
        h.Time.Advance(TimeSpan.FromMinutes(5));
        var requestsBefore = h.Anthropic.Requests.Count;
        var next = await h.RunAsync();

        Assert.Equal(failing.Subject, Assert.Single(next.Findings).Subject);
        Assert.Equal(noCredential.Config.Name, Assert.Single(next.Warnings).ProviderKey);
        Assert.Equal(requestsBefore, h.Anthropic.Requests.Count);
    }

    [Fact]
    public async Task A_version_revoked_in_the_vault_and_then_used_at_the_provider_is_retired_key_use_under_any_floor()
    {
        await using var h = await ShadowHarness.StartAsync();
        var key = await h.AddOpenAIKeyAsync();
        await h.RevokeInVaultAsync(key, new DateTimeOffset(2026, 12, 7, 9, 30, 0, TimeSpan.Zero));
        await h.CallDirectAsync(key, 2); // the provider never deleted it: two calls, under shadow usage's floor of 5

        h.Time.SetUtcNow(new DateTimeOffset(2026, 12, 7, 13, 5, 0, TimeSpan.Zero));
        var run = await h.RunAsync();

        var finding = Assert.Single(run.Findings);
        Assert.Equal((Detectors.RetiredKeyUse, key.Subject, FindingSeverity.High, 2.0), (finding.Detector, finding.Subject, finding.Severity, finding.Observed));
        Assert.Equal(FindingId.For(Detectors.RetiredKeyUse, key.Subject, ShadowHarness.CallHour), finding.Id);
        Assert.Equal("2026-12-07T09:30:00Z", finding.Details!["revokedAt"]);
    }

    [Fact]
    public async Task Use_reported_late_is_found_by_the_24_hour_judgement_and_no_hour_is_read_in_between()
    {
        await using var h = await ShadowHarness.StartAsync();
        var key = await h.AddOpenAIKeyAsync();
        h.OpenAI.Billing.ReportingLag = TimeSpan.FromHours(3); // the calls at 10:10 show in the report from 13:10
        await h.CallDirectAsync(key, 30);

        h.Time.SetUtcNow(new DateTimeOffset(2026, 12, 7, 13, 5, 0, TimeSpan.Zero));
        var settled = await h.RunAsync();
        Assert.Empty(settled.Findings);
        Assert.Equal(2, h.ReportRequests);

        // Every sweep of the next hours: nothing newly settled, so no report is read.
        for (var i = 0; i < 10; i++)
        {
            h.Time.Advance(TimeSpan.FromMinutes(5));
            Assert.Empty((await h.RunAsync()).Findings);
        }
        Assert.Equal(2, h.ReportRequests);

        h.Time.SetUtcNow(new DateTimeOffset(2026, 12, 8, 11, 5, 0, TimeSpan.Zero)); // the hour from 10:00 is 24 h old at 11:00 next day
        var rejudged = await h.RunAsync();

        var finding = Assert.Single(rejudged.Findings);
        Assert.Equal((key.Subject, ShadowHarness.CallHour, ShadowUsageCheck.Rejudged), (finding.Subject, finding.WindowStart, finding.Details!["judged"]));
        Assert.Equal(FindingId.For(Detectors.ShadowUsage, key.Subject, ShadowHarness.CallHour), finding.Id);

        h.Time.Advance(TimeSpan.FromMinutes(5));
        var requests = h.ReportRequests;
        Assert.Empty((await h.RunAsync()).Findings);
        Assert.Equal(requests, h.ReportRequests);
    }

    [Fact]
    public async Task A_run_that_is_not_committed_judges_the_same_hours_again_with_the_same_finding_ids()
    {
        await using var h = await ShadowHarness.StartAsync();
        var key = await h.AddOpenAIKeyAsync();
        await h.CallDirectAsync(key, 30);
        h.Time.SetUtcNow(new DateTimeOffset(2026, 12, 7, 13, 5, 0, TimeSpan.Zero));

        var crashed = await h.Check.RunAsync(h.Time.GetUtcNow(), CancellationToken.None); // stopped before its commit
        var again = await h.RunAsync();

        Assert.Equal(crashed.Findings.Select(f => f.Id), again.Findings.Select(f => f.Id));
        Assert.Single(again.Findings);
    }

    [Theory]
    [InlineData("Anomalies:UsageRejudge", "01:00:00")] // not after the settle time
    [InlineData("Anomalies:UsageSettle", "00:00:00")]
    [InlineData("Anomalies:ShadowTolerancePercent", "-1")]
    public async Task Settings_that_make_no_sense_are_refused(string setting, string value)
    {
        await using var h = await ShadowHarness.StartAsync(new Dictionary<string, string?> { [setting] = value });

        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => h.Service<Microsoft.Extensions.Options.IOptions<ShadowUsageOptions>>().Value);
    }

    private static void AssertNoSecret(ShadowHarness h, ShadowKey key, ShadowUsageRun run)
    {
        var text = string.Join("\n", run.Findings.SelectMany(f => new[] { f.Summary, f.Subject }.Concat(f.Details!.Values)))
            + string.Join("\n", run.Warnings.Select(w => w.Detail)) + h.Logs.AllText;
        ConnectorHarness.AssertNoPartOf(key.Value, text);
        ConnectorHarness.AssertNoPartOf(key.AdminKey, text);
    }
}
