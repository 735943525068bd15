using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Detection;
using FuncKeyOps.Anomalies.KnownSources;
using FuncKeyOps.Audit;
using Microsoft.Extensions.DependencyInjection;
using static FuncKeyOps.Tests.Anomalies.SweepRows;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// <c>new_source</c> over audit rows in Azurite: a relay key's sources are learnt from each closed window, and a later
/// window's unseen sources are found over their thresholds, one by one and spread, with a near miss for each.
/// </summary>
public class NewSourceTests
{
    private static readonly DateTimeOffset W1 = SweepHarness.FirstWindow.Start;
    private static readonly DateTimeOffset W2 = SweepHarness.FirstWindow.Next.Start;
    private const string Known = "198.51.100.10";

    [Fact]
    public async Task A_new_keys_first_sources_are_learnt_and_a_later_unseen_source_over_10_calls_is_found_high_over_100()
    {
        await using var sweep = await NewSourceHarness.CreateAsync();
        // First window: a key never seen before, from two sources, one of them busy: learnt, nothing found.
        var (_, first) = await sweep.SweepFirstWindowAsync(
            Times(20, i => Call(In(W1, i), "rk-one", source: Known)).Concat(Times(200, i => Call(In(W1, i), "rk-one", source: "198.51.100.11"))));
        Assert.DoesNotContain(first, f => f.Detector == Detectors.NewSource);

        var found = await NewSourceHarness.SweepSecondWindowAsync(sweep, [
            .. Times(30, i => Call(In(W2, i), "rk-one", source: Known)),
            .. Times(30, i => Call(In(W2, i), "rk-one", source: "198.51.100.11")),
            .. Times(11, i => Call(In(W2, i), "rk-one", source: "203.0.113.1")),      // found, medium
            .. Times(10, i => Call(In(W2, i), "rk-one", source: "203.0.113.2")),      // near miss: 10 is not over 10
            .. Times(101, i => Call(In(W2, i), "rk-one", source: "203.0.113.3")),     // found, high (contained by default)
            .. Times(100, i => Call(In(W2, i), "rk-two", source: "203.0.113.4")),     // rk-two is new: learnt
        ]);

        var subject = DetectionContext.RelayKeySubject("rk-one");
        Assert.Equal(
            [("203.0.113.1", 11.0, FindingSeverity.Medium), ("203.0.113.3", 101.0, FindingSeverity.High)],
            found.Where(f => f.Detector == Detectors.NewSource).Select(f => (f.Details!["source"], f.Observed, f.Severity)).Order());
        Assert.All(found.Where(f => f.Detector == Detectors.NewSource), f =>
        {
            Assert.Equal(subject, f.Subject);
            Assert.Equal(10.0, f.Threshold);
            Assert.Equal(NewSourceDetector.SingleSourceId(subject, f.Details!["source"], SweepHarness.FirstWindow.Next), f.Id);
        });
        Assert.Equal(2, found.Count(f => f.Detector == Detectors.NewSource));
    }

    [Fact]
    public async Task Over_50_calls_from_unseen_sources_too_small_alone_are_found_together_and_50_are_not()
    {
        await using var sweep = await NewSourceHarness.CreateAsync();
        await sweep.SweepFirstWindowAsync([Call(In(W1), "rk-spread", source: Known), Call(In(W1), "rk-even", source: Known)]);

        var found = await NewSourceHarness.SweepSecondWindowAsync(sweep, [
            // 51 addresses with one call each, plus one unseen source with 11 (found on its own, not counted again).
            .. Times(51, i => Call(In(W2, i), "rk-spread", source: $"192.0.2.{i + 1}")),
            .. Times(11, i => Call(In(W2, i), "rk-spread", source: "203.0.113.50")),
            // Near miss: exactly 50 from ten addresses with 5 each.
            .. Enumerable.Range(0, 10).SelectMany(s => Times(5, i => Call(In(W2, i), "rk-even", source: $"192.0.2.{s + 100}"))),
        ]);

        var newSource = found.Where(f => f.Detector == Detectors.NewSource).ToList();
        var spread = Assert.Single(newSource, f => !f.Details!.ContainsKey("source"));
        Assert.Equal((DetectionContext.RelayKeySubject("rk-spread"), 51.0, 50.0, "51", FindingSeverity.Medium),
            (spread.Subject, spread.Observed, spread.Threshold, spread.Details!["sources"], spread.Severity));
        Assert.Equal(FindingId.For(Detectors.NewSource, spread.Subject, SweepHarness.FirstWindow.Next), spread.Id);
        var single = Assert.Single(newSource, f => f.Details!.ContainsKey("source"));
        Assert.Equal(("203.0.113.50", spread.Subject), (single.Details!["source"], single.Subject));
        Assert.NotEqual(spread.Id, single.Id);
        Assert.Equal(2, newSource.Count);
    }

    [Fact]
    public async Task A_source_last_seen_31_days_ago_is_new_again_and_one_seen_29_days_ago_is_known()
    {
        await using var sweep = await NewSourceHarness.CreateAsync();
        var longAgo = SweepWindow.Containing(W1.AddDays(-31));
        var lately = SweepWindow.Containing(W1.AddDays(-29));
        await NewSourceHarness.TeachAsync(sweep, longAgo, [Call(In(longAgo.Start), "rk-old", source: "203.0.113.31")]);
        await NewSourceHarness.TeachAsync(sweep, lately, [Call(In(lately.Start), "rk-old", source: "203.0.113.29")]);

        var (_, found) = await sweep.SweepFirstWindowAsync([
            .. Times(20, i => Call(In(W1, i), "rk-old", source: "203.0.113.31")),
            .. Times(20, i => Call(In(W1, i), "rk-old", source: "203.0.113.29")),
        ]);

        var finding = Assert.Single(found, f => f.Detector == Detectors.NewSource);
        Assert.Equal(("203.0.113.31", 20.0), (finding.Details!["source"], finding.Observed));
        // The window's own teaching does not make its sources known to it: swept again, it is judged as the first time.
        var store = sweep.Services.GetRequiredService<KnownSourceStore>();
        Assert.Equal(["203.0.113.29"], await store.GetAsync("rk-old", SweepHarness.FirstWindow, CancellationToken.None));
        Assert.Equal(["203.0.113.29", "203.0.113.31"], (await store.GetAsync("rk-old", SweepHarness.FirstWindow.Next, CancellationToken.None)).Order());
    }

    [Fact]
    public async Task Catching_up_over_hours_in_one_run_learns_and_relearns_each_window_before_the_next_is_judged()
    {
        await using var sweep = await NewSourceHarness.CreateAsync();
        await sweep.SweepFirstWindowAsync([Call(In(W1), "rk-catch", source: Known)]);
        var at1005 = W1.AddMinutes(5);
        var at1110 = W1.AddMinutes(70);
        var at1220 = W1.AddMinutes(140);
        await sweep.SeedAsync([
            .. Times(11, i => Call(In(at1005, i), "rk-catch", source: "203.0.113.70")),   // found once: new at 10:05
            .. Times(11, i => Call(In(at1110, i), "rk-catch", source: "203.0.113.70")),   // known since 10:05: its row updated
            .. Times(20, i => Call(In(at1220, i), "rk-catch", source: "203.0.113.70")),
            .. Times(11, i => Call(In(at1220, i), "rk-catch", source: "203.0.113.71")),   // new at 12:20
        ]);
        var before = sweep.Responder.Findings.Count;

        // 28 windows from 10:05 to 12:20: one run of 24, then the rest.
        sweep.MoveTo(at1220.AddMinutes(6));
        await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);

        Assert.Equal([("203.0.113.70", at1005), ("203.0.113.71", at1220)],
            sweep.Responder.Findings.Skip(before).Where(f => f.Detector == Detectors.NewSource).Select(f => (f.Details!["source"], f.WindowStart)));
    }

    [Fact]
    public async Task An_IPv6_address_in_a_known_64_is_known_and_one_in_the_next_64_is_not()
    {
        await using var sweep = await NewSourceHarness.CreateAsync();
        await sweep.SweepFirstWindowAsync([Call(In(W1), "rk-six", source: "2001:db8:1:2::1")]);

        var found = await NewSourceHarness.SweepSecondWindowAsync(sweep, [
            .. Times(50, i => Call(In(W2, i), "rk-six", source: $"2001:db8:1:2::{i + 100:x}")),
            .. Times(11, i => Call(In(W2, i), "rk-six", source: $"2001:db8:1:3::{i + 1:x}")),
        ]);

        var finding = Assert.Single(found, f => f.Detector == Detectors.NewSource);
        Assert.Equal(("2001:db8:1:3::/64", 11.0), (finding.Details!["source"], finding.Observed));
    }

    [Fact]
    public async Task The_relay_keys_allowed_IPs_and_its_tenants_and_its_own_configured_blocks_are_known()
    {
        await using var sweep = await NewSourceHarness.CreateAsync(new Dictionary<string, string?>
        {
            ["Anomalies:Tenants:tenant-b:KnownSources:0"] = "192.0.2.0/24",
            ["Anomalies:RelayKeys:rk-nets:KnownSources:0"] = "2001:db8:ff::/48",
        });
        await NewSourceHarness.StoreRelayKeyAsync(sweep, "rk-nets", tenant: "tenant-b", allowedIps: ["203.0.113.0/24", "198.18.0.0/15"]);
        await sweep.SweepFirstWindowAsync([Call(In(W1), "rk-nets", tenant: "tenant-b", source: "203.0.113.1"), Call(In(W1), "rk-other", source: Known)]);

        var found = await NewSourceHarness.SweepSecondWindowAsync(sweep, [
            .. Times(50, i => Call(In(W2, i), "rk-nets", tenant: "tenant-b", source: "203.0.113.77")),      // allowedIps
            .. Times(50, i => Call(In(W2, i), "rk-nets", tenant: "tenant-b", source: "192.0.2.5")),         // tenant's KnownSources
            .. Times(50, i => Call(In(W2, i), "rk-nets", tenant: "tenant-b", source: "2001:db8:ff:1::5")),  // its own KnownSources
            .. Times(11, i => Call(In(W2, i), "rk-nets", tenant: "tenant-b", source: "198.51.100.200")),    // none of them: found
            // A key of tenant-a: tenant-b's blocks are not its own.
            .. Times(11, i => Call(In(W2, i), "rk-other", source: "192.0.2.5")),
        ]);

        Assert.Equal([("relay-key:rk-nets", "198.51.100.200"), ("relay-key:rk-other", "192.0.2.5")],
            found.Where(f => f.Detector == Detectors.NewSource).Select(f => (f.Subject, f.Details!["source"])).Order());
    }

    [Fact]
    public async Task Thresholds_are_narrowed_per_tenant_and_per_relay_key()
    {
        await using var sweep = await NewSourceHarness.CreateAsync(new Dictionary<string, string?>
        {
            ["Anomalies:RelayKeys:rk-strict:NewSourceMinCalls"] = "2",
            ["Anomalies:Tenants:tenant-a:NewSourceContainCalls"] = "12",
        });
        await sweep.SweepFirstWindowAsync([Call(In(W1), "rk-strict", source: Known), Call(In(W1), "rk-loose", source: Known)]);

        var found = await NewSourceHarness.SweepSecondWindowAsync(sweep, [
            .. Times(3, i => Call(In(W2, i), "rk-strict", source: "203.0.113.8")),
            .. Times(2, i => Call(In(W2, i), "rk-strict", source: "203.0.113.9")),   // near miss of its own threshold
            .. Times(13, i => Call(In(W2, i), "rk-loose", source: "203.0.113.8")),
            .. Times(10, i => Call(In(W2, i), "rk-loose", source: "203.0.113.9")),   // near miss of the global threshold
        ]);

        // rk-strict: its own minimum (2), its tenant's containment (12); rk-loose: the global minimum, its tenant's containment.
        Assert.Equal([("relay-key:rk-loose", 13.0, 10.0, FindingSeverity.High), ("relay-key:rk-strict", 3.0, 2.0, FindingSeverity.Medium)],
            found.Where(f => f.Detector == Detectors.NewSource).Select(f => (f.Subject, f.Observed, f.Threshold, f.Severity)).Order());
    }
}
