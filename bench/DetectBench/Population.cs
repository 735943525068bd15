using FuncKeyOps.Anomalies;

namespace FuncKeyOps.Bench.DetectBench;

/// <summary>How a relay key's callers show up as source addresses.</summary>
internal enum SourceKind
{
    /// <summary>One to three fixed IPv4 addresses.</summary>
    Fixed,
    /// <summary>Random interface ids inside one IPv6 /64 (privacy addresses): one source as the detectors count it.</summary>
    Ipv6Rotating,
    /// <summary>A new address every day inside the tenant's configured KnownSources block (autoscaled egress).</summary>
    TenantBlock,
    /// <summary>A new address every day inside the key's own allowedIps.</summary>
    AllowList,
}

internal sealed record TenantProfile(string Id, string TimeZoneId)
{
    public TimeZoneInfo Zone { get; } = TimeZoneId == "UTC" ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(TimeZoneId);
}

internal sealed record ProviderKeyProfile(int Index, string Name, string Provider, DateTimeOffset RotatedAt)
{
    /// <summary>The old version is revoked a day after the rotation (its grace period).</summary>
    public DateTimeOffset RevokedAt => RotatedAt.AddDays(1);
    public string VersionAt(DateTimeOffset time) => time < RotatedAt ? "v1" : "v2";
    /// <summary>Whether the provider publishes a per-key usage report (shadow usage can be judged).</summary>
    public bool Reports => Provider is "openai" or "anthropic";
}

internal sealed record RelayKeyProfile(
    int Index,
    string Id,
    TenantProfile Tenant,
    ProviderKeyProfile ProviderKey,
    double PeakCalls,
    double NightShare,
    double WeekendShare,
    double TokensPerCall,
    double ErrorShare,
    bool DeployBursts,
    DateTimeOffset Start,
    DateTimeOffset? Stop,
    SourceKind Sources,
    IReadOnlyList<string> Addresses,
    string Model);

/// <summary>
/// The synthetic estate: 200 relay keys of 9 tenants over 20 provider keys, five weeks from a Monday. Classes by index,
/// so incidents can be written against keys whose shape is known (see bench/detect/incidents.txt).
/// </summary>
internal sealed class Population
{
    public static readonly DateTimeOffset Start = new(2026, 11, 2, 0, 0, 0, TimeSpan.Zero);
    public const int Days = 35;
    public static int Windows => Days * 24 * 12;

    /// <summary>Thanksgiving week: every tenant at a third of its traffic (24/7 jobs at most of theirs).</summary>
    public static readonly DateTimeOffset HolidayFrom = new(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset HolidayTo = HolidayFrom.AddDays(7);

    public const string TenantBlock = "10.7.0.0/16";
    public const string AllowListBlock = "192.0.2.0/24";

    public IReadOnlyList<TenantProfile> Tenants { get; }
    public IReadOnlyList<ProviderKeyProfile> ProviderKeys { get; }
    public IReadOnlyList<RelayKeyProfile> RelayKeys { get; }

    public Population(int seed)
    {
        Tenants =
        [
            new("t0", "UTC"), new("t1", "Europe/Berlin"), new("t2", "America/New_York"), new("t3", "UTC"),
            new("t4", "UTC"), new("t5", "Asia/Tokyo"), new("t6", "UTC"), new("t7", "UTC"), new("t8", "Europe/London"),
        ];
        ProviderKeys = [.. Enumerable.Range(0, 20).Select(i => new ProviderKeyProfile(i, $"pk{i:D2}",
            i < 12 ? "openai" : i < 16 ? "anthropic" : i < 18 ? "gemini" : "azure-openai",
            // Each key rotated once, in the third week, at a whole hour.
            Start.AddDays(15).AddHours(i * 2)))];

        var keys = new List<RelayKeyProfile>();
        for (var i = 0; i < 200; i++)
        {
            var random = new Random(seed * 7919 + i);
            double Between(double low, double high) => low + random.NextDouble() * (high - low);
            double LogBetween(double low, double high) => Math.Exp(Between(Math.Log(low), Math.Log(high)));
            var tenant = i is >= 190 and < 195 ? Tenants[7] : Tenants[i % 7 == 0 && i % 2 == 0 ? 8 : i % 7];
            var provider = ProviderKeys[i % 20];
            // Classes by index: big daytime keys, medium and small daytime keys, 24/7 jobs, keys that start late (some
            // stop again), IPv6 callers, callers scaling out in the tenant's block or the key's allow-list.
            var (peak, night, weekend) = i switch
            {
                < 40 => (LogBetween(110, 300), Between(0.01, 0.03), Between(0.2, 0.5)),
                < 140 => (LogBetween(4, 110), Between(0.01, 0.05), Between(0.2, 0.5)),
                < 160 => (LogBetween(20, 200), Between(0.5, 0.8), Between(0.8, 1.0)),
                _ => (LogBetween(10, 150), Between(0.02, 0.1), Between(0.3, 0.6)),
            };
            var start = i is >= 160 and < 180 ? Start.AddDays(2 + (i - 160)).AddHours(Between(0, 24)) : Start;
            DateTimeOffset? stop = i is >= 172 and < 180 ? start.AddDays(Between(5, 10)) : null;
            var sources = i switch
            {
                >= 180 and < 190 => SourceKind.Ipv6Rotating,
                >= 190 and < 195 => SourceKind.TenantBlock,
                >= 195 => SourceKind.AllowList,
                _ => SourceKind.Fixed,
            };
            var addresses = sources switch
            {
                SourceKind.Ipv6Rotating => [$"2001:db8:{i:x}:{i * 3:x}"],
                // A late key calls from one address: a second server first seen weeks later is a new source by the
                // rule (rightly flagged), not noise.
                SourceKind.Fixed => Enumerable.Range(0, start > Start ? 1 : 1 + i % 3).Select(k => $"100.{64 + i % 60}.{i}.{10 + k}").ToArray(),
                _ => Array.Empty<string>(),
            };
            // Normal keys stay under half of the absolute tokens bound (1,000,000 in 5 minutes) at their busiest, deploy
            // bursts and noise included: a key that normally runs near it is given its own TokensPerWindow (README).
            var deploy = i % 3 == 0;
            var tokensPerCall = Math.Min(LogBetween(300, 3000), 500_000 / (peak * 1.3 * (deploy ? Traffic.DeployFactor : 1)));
            keys.Add(new RelayKeyProfile(i, $"rk{i:D3}", tenant, provider, peak, night, weekend, tokensPerCall,
                Between(0.002, 0.015), DeployBursts: deploy, start, stop, sources, addresses,
                provider.Provider == "anthropic" ? "claude-sonnet-4" : provider.Provider == "gemini" ? "gemini-2.5-flash" : "gpt-4.1-mini"));
        }
        RelayKeys = keys;
    }

    public RelayKeyProfile Key(string id) => RelayKeys.FirstOrDefault(k => k.Id == id) ?? throw new ArgumentException($"no relay key {id}");
    public ProviderKeyProfile ProviderKey(string name) => ProviderKeys.FirstOrDefault(k => k.Name == name) ?? throw new ArgumentException($"no provider key {name}");

    public static SweepWindow WindowAt(int index) => SweepWindow.Containing(Start + index * SweepWindow.Length);
    public static int IndexOf(DateTimeOffset time) => (int)((time - Start).Ticks / SweepWindow.Length.Ticks);
}
