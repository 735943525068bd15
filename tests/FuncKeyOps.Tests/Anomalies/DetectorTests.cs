using FuncKeyOps.Anomalies;
using FuncKeyOps.Audit;
using static FuncKeyOps.Tests.Anomalies.SweepRows;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// Each absolute detector over audit rows stored in Azurite as the relay writes them: the pattern, and a near miss just
/// under each threshold that must raise nothing. Every test asserts exactly the findings expected, no more.
/// </summary>
public class DetectorTests
{
    private static readonly DateTimeOffset W = SweepHarness.FirstWindow.Start;

    [Fact]
    public async Task Auth_failures_over_20_from_one_source_are_found_per_source_and_an_IPv6_64_is_one_source()
    {
        await using var sweep = await SweepHarness.CreateAsync();
        var rows = new List<AuditRecord>();
        rows.AddRange(Times(21, i => FailedAuth(In(W, i), "203.0.113.5")));
        rows.AddRange(Times(20, i => FailedAuth(In(W, i), "203.0.113.6", claimedRelayKeyId: "rk-claimed")));   // near miss
        // 21 addresses of one /64: one source.
        rows.AddRange(Times(21, i => FailedAuth(In(W, i), $"2001:db8:1:2::{i + 1:x}")));
        // 20 from another /64 of the same /48: a separate source, under the threshold.
        rows.AddRange(Times(20, i => FailedAuth(In(W, i), $"2001:db8:1:3::{i + 1:x}")));

        var (_, findings) = await sweep.SweepFirstWindowAsync(rows);

        Assert.Equal(
            [("source:2001:db8:1:2::/64", 21.0), ("source:203.0.113.5", 21.0)],
            findings.Select(f => (f.Subject, f.Observed)).Order());
        Assert.All(findings, f =>
        {
            Assert.Equal(Detectors.AuthFailures, f.Detector);
            Assert.Equal(20.0, f.Threshold);
            Assert.Equal(FindingSeverity.Medium, f.Severity);
            Assert.Equal(FindingId.For(Detectors.AuthFailures, f.Subject, SweepHarness.FirstWindow), f.Id);
        });
    }

    [Fact]
    public async Task Auth_failures_over_200_from_all_sources_together_are_found_and_200_are_not()
    {
        await using var sweep = await SweepHarness.CreateAsync();
        var next = SweepHarness.FirstWindow.Next;
        // 201 in the first window, no source over 20 (ten with 19, one with 11); exactly 200 (ten with 20) in the next.
        var rows = Enumerable.Range(0, 10).SelectMany(s => Times(19, i => FailedAuth(In(W, i), $"192.0.2.{s + 1}")))
            .Concat(Times(11, i => FailedAuth(In(W, i), "192.0.2.99")))
            .Concat(Enumerable.Range(0, 10).SelectMany(s => Times(20, i => FailedAuth(In(next.Start, i), $"192.0.2.{s + 1}"))))
            .ToList();

        var (_, findings) = await sweep.SweepFirstWindowAsync(rows);
        sweep.MoveTo(next.End + TimeSpan.FromMinutes(1));
        var second = await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);

        Assert.Equal([next], second.Windows.Select(w => w.Window));
        var finding = Assert.Single(sweep.Responder.Findings);
        Assert.Equal(("source:*", 201.0, 200.0, SweepHarness.FirstWindow.Start), (finding.Subject, finding.Observed, finding.Threshold, finding.WindowStart));
        Assert.Equal("11", finding.Details!["sources"]);
    }

    [Fact]
    public async Task Error_rate_over_20_percent_of_at_least_50_calls_is_found_and_near_misses_are_not()
    {
        await using var sweep = await SweepHarness.CreateAsync();
        var rows = new List<AuditRecord>();
        // Found: 11 of 50 (22 %).
        rows.AddRange(Times(39, i => Call(In(W, i), "rk-over")));
        rows.AddRange(Times(11, i => Call(In(W, i), "rk-over", status: 502, errorCode: "upstream_error", upstreamStatus: 500)));
        // Near misses: 10 of 50 (20 %, not over); 49 of 49 (too few calls).
        rows.AddRange(Times(40, i => Call(In(W, i), "rk-at")));
        rows.AddRange(Times(10, i => Call(In(W, i), "rk-at", status: 503, errorCode: "provider_keys_busy")));
        rows.AddRange(Times(49, i => Call(In(W, i), "rk-few", status: 504, errorCode: "upstream_timeout")));
        // 10 of 50 calls failed, plus 5 failed first attempts another version answered: the client saw 50 answers, 10 failed.
        rows.AddRange(Times(40, i => Call(In(W, i), "rk-retried")));
        rows.AddRange(Times(10, i => Call(In(W, i), "rk-retried", status: 502, errorCode: "upstream_error")));
        rows.AddRange(Times(5, i => Call(In(W, i), "rk-retried", status: 502, errorCode: "upstream_error", attempt: 1, requestId: $"retried-{i}.1")));
        // And 20 refused authentications claiming rk-over: not its calls (counted, they would bring it under 20 %).
        rows.AddRange(Times(20, i => FailedAuth(In(W, i), "203.0.113.9", claimedRelayKeyId: "rk-over")));

        var (_, findings) = await sweep.SweepFirstWindowAsync(rows);

        var finding = Assert.Single(findings);
        Assert.Equal((Detectors.ErrorRate, "relay-key:rk-over", "tenant-a", 0.22, 0.2, FindingSeverity.Medium),
            (finding.Detector, finding.Subject, finding.Tenant, finding.Observed, finding.Threshold, finding.Severity));
        Assert.Equal(("50", "11"), (finding.Details!["calls"], finding.Details["errors"]));
    }

    [Fact]
    public async Task A_provider_key_version_refused_on_any_attempt_is_found_even_when_another_version_answered()
    {
        await using var sweep = await SweepHarness.CreateAsync();
        var rows = new List<AuditRecord>
        {
            // v1 refused on a first attempt; v2 answered the call (its own row keeps the call's id).
            Call(In(W, 1), "rk-1", status: 502, errorCode: "provider_key_rejected", upstreamStatus: 401, version: "v1", attempt: 1, requestId: "call-1.1"),
            Call(In(W, 1), "rk-1", version: "v2", attempt: 2, requestId: "call-1"),
        };
        // Near misses: v2 serving, and failing in other ways (the provider's 5xx, a timeout): not a refusal of the key.
        rows.AddRange(Times(30, i => Call(In(W, i), "rk-2", version: "v2")));
        rows.Add(Call(In(W, 2), "rk-2", status: 502, errorCode: "upstream_error", upstreamStatus: 500, version: "v2"));
        rows.Add(Call(In(W, 3), "rk-2", status: 504, errorCode: "upstream_timeout", version: "v2"));
        rows.Add(Call(In(W, 3), "rk-3", status: 401, providerKey: "anthropic-main", version: "v7")); // the provider's 401 relayed as it was

        var (_, findings) = await sweep.SweepFirstWindowAsync(rows);

        var finding = Assert.Single(findings);
        Assert.Equal((Detectors.ProviderKeyRejected, "provider-key:openai-main/v1", 1.0, FindingSeverity.High),
            (finding.Detector, finding.Subject, finding.Observed, finding.Severity));
        Assert.Equal(("openai-main", "v1", "1"), (finding.Details!["providerKeyName"], finding.Details["providerKeyVersion"], finding.Details["attempts"]));
    }

    [Fact]
    public async Task Tokens_over_a_million_in_a_window_are_found_high_past_ten_million_and_a_million_exactly_is_not()
    {
        await using var sweep = await SweepHarness.CreateAsync();
        var rows = new List<AuditRecord>
        {
            Call(In(W, 1), "rk-over", input: 600_000, output: 300_000),
            Call(In(W, 2), "rk-over", input: 100_000, output: 1),
            Call(In(W, 1), "rk-at", input: 999_000, output: 1_000),                // exactly 1,000,000: near miss
            Call(In(W, 1), "rk-flood", input: 9_000_000, output: 1_000_001),       // over 10x
        };

        var (_, findings) = await sweep.SweepFirstWindowAsync(rows);

        Assert.Equal(
            [("relay-key:rk-flood", 10_000_001.0, FindingSeverity.High), ("relay-key:rk-over", 1_000_001.0, FindingSeverity.Medium)],
            findings.Select(f => (f.Subject, f.Observed, f.Severity)).Order());
        Assert.All(findings, f => Assert.Equal((Detectors.Tokens, 1_000_000.0), (f.Detector, f.Threshold)));
    }

    [Fact]
    public async Task A_tenants_threshold_applies_to_its_keys_and_a_relay_keys_own_wins_over_it()
    {
        await using var sweep = await SweepHarness.CreateAsync(new Dictionary<string, string?>
        {
            ["Anomalies:Tenants:small:TokensPerWindow"] = "1000",
            ["Anomalies:RelayKeys:rk-batch:TokensPerWindow"] = "5000",
        });
        var rows = new List<AuditRecord>
        {
            Call(In(W, 1), "rk-small", tenant: "small", input: 1_000, output: 1),   // over the tenant's 1,000
            Call(In(W, 1), "rk-batch", tenant: "small", input: 4_999, output: 1),   // at its own 5,000: near miss
            Call(In(W, 1), "rk-other", tenant: "large", input: 900_000, output: 0), // the global million
        };

        var (_, findings) = await sweep.SweepFirstWindowAsync(rows);

        var finding = Assert.Single(findings);
        Assert.Equal(("relay-key:rk-small", "small", 1_001.0, 1_000.0), (finding.Subject, finding.Tenant, finding.Observed, finding.Threshold));
    }
}
