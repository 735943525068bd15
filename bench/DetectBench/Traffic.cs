using FuncKeyOps.Anomalies;

namespace FuncKeyOps.Bench.DetectBench;

/// <summary>
/// Normal traffic, deterministic per (key, window): daily and weekly seasonality on the tenant's clock, ±30 % noise,
/// the holiday week, deploy-day bursts (Tuesdays and Thursdays 14:00-14:30 UTC, three times the traffic), new keys
/// ramping up, stopped keys silent; plus a few failed relay-key authentications per window from a pool of sources (a
/// stale key in some script). Pure functions of the seed, so a day can be generated ahead (budgets) and again.
/// </summary>
internal sealed class Traffic(Population population, int seed)
{
    private const string UpstreamError = "upstream_error";
    public const double DeployFactor = 3;

    public Population Population => population;

    /// <summary>Mean calls of the key in the window, before noise.</summary>
    public static double Mean(RelayKeyProfile key, SweepWindow window)
    {
        var t = window.Start;
        if (t < key.Start || (key.Stop is { } stop && t >= stop))
            return 0;
        var local = TimeZoneInfo.ConvertTime(t, key.Tenant.Zone);
        var hour = local.Hour + local.Minute / 60.0;
        var bell = Math.Exp(-Math.Pow((hour - 13) / 4.0, 2));
        var daily = key.NightShare + (1 - key.NightShare) * bell;
        var weekly = local.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? key.WeekendShare : 1;
        var holiday = t >= Population.HolidayFrom && t < Population.HolidayTo ? (key.NightShare >= 0.5 ? 0.8 : 0.35) : 1;
        var deploy = key.DeployBursts && t.UtcDateTime.DayOfWeek is DayOfWeek.Tuesday or DayOfWeek.Thursday
            && t.UtcDateTime.Hour == 14 && t.UtcDateTime.Minute < 30 ? DeployFactor : 1;
        // A key new in these weeks ramps up over its first ten days; the others were in use before them.
        var ramp = key.Start > Population.Start ? Math.Min(1, 0.3 + 0.7 * (t - key.Start).TotalDays / 10) : 1;
        return key.PeakCalls * daily * weekly * holiday * deploy * ramp;
    }

    /// <summary>The key's normal calls in the window, appended to <paramref name="into"/>; returns how many.</summary>
    public int Generate(RelayKeyProfile key, int windowIndex, List<SweepRow> into)
    {
        var window = Population.WindowAt(windowIndex);
        var mean = Mean(key, window);
        if (mean <= 0)
            return 0;
        var random = new Random(unchecked(seed * 1_000_003 + key.Index * 104_729 + windowIndex * 31));
        var noisy = mean * (0.7 + 0.6 * random.NextDouble());
        var calls = (int)noisy + (random.NextDouble() < noisy - Math.Floor(noisy) ? 1 : 0);
        var version = key.ProviderKey.VersionAt(window.Start);
        var day = (int)(window.Start - Population.Start).TotalDays;
        for (var c = 0; c < calls; c++)
        {
            var failed = random.NextDouble() < key.ErrorShare;
            var tokens = key.TokensPerCall * (0.7 + 0.6 * random.NextDouble());
            into.Add(new SweepRow
            {
                Time = window.Start.AddTicks((long)(random.NextDouble() * SweepWindow.Length.Ticks)),
                Tenant = key.Tenant.Id,
                RelayKeyId = key.Id,
                Provider = key.ProviderKey.Provider,
                ProviderKeyName = key.ProviderKey.Name,
                ProviderKeyVersion = version,
                Model = key.Model,
                Status = failed ? 502 : 200,
                ErrorCode = failed ? UpstreamError : null,
                UpstreamStatus = failed ? 500 : 200,
                InputTokens = failed ? null : (long)(tokens * 0.7),
                OutputTokens = failed ? null : (long)(tokens * 0.3),
                SourceIp = Source(key, day, random),
            });
        }
        return calls;
    }

    /// <summary>Background failed authentications: 0 to 3 a window from 50 addresses.</summary>
    public void FailedAuthentications(int windowIndex, List<SweepRow> into)
    {
        var window = Population.WindowAt(windowIndex);
        var random = new Random(unchecked(seed * 1_000_003 - 1 - windowIndex * 31));
        var count = random.Next(0, 4);
        for (var i = 0; i < count; i++)
            into.Add(FailedAuthentication(window, $"198.18.0.{random.Next(1, 51)}", random));
    }

    public static SweepRow FailedAuthentication(SweepWindow window, string source, Random random) => new()
    {
        Time = window.Start.AddTicks((long)(random.NextDouble() * SweepWindow.Length.Ticks)),
        Provider = "openai",
        Status = 401,
        ErrorCode = "invalid_relay_key",
        SourceIp = source,
    };

    /// <summary>A call of the key as its normal traffic makes it (same sources, tokens, version), for incidents that add calls.</summary>
    public static SweepRow Call(RelayKeyProfile key, SweepWindow window, Random random, string? source = null, long? tokens = null) => new()
    {
        Time = window.Start.AddTicks((long)(random.NextDouble() * SweepWindow.Length.Ticks)),
        Tenant = key.Tenant.Id,
        RelayKeyId = key.Id,
        Provider = key.ProviderKey.Provider,
        ProviderKeyName = key.ProviderKey.Name,
        ProviderKeyVersion = key.ProviderKey.VersionAt(window.Start),
        Model = key.Model,
        Status = 200,
        UpstreamStatus = 200,
        InputTokens = (long)((tokens ?? key.TokensPerCall) * 0.7),
        OutputTokens = (long)((tokens ?? key.TokensPerCall) * 0.3),
        SourceIp = source ?? Source(key, (int)(window.Start - Population.Start).TotalDays, random),
    };

    private static string Source(RelayKeyProfile key, int day, Random random) => key.Sources switch
    {
        // Weighted towards the first address, as a primary server and its standbys.
        SourceKind.Fixed => key.Addresses[random.NextDouble() < 0.6 ? 0 : random.Next(key.Addresses.Count)],
        SourceKind.Ipv6Rotating => $"{key.Addresses[0]}:{random.Next(1, 0xffff):x}:{random.Next(1, 0xffff):x}:{random.Next(1, 0xffff):x}:{random.Next(1, 0xffff):x}",
        SourceKind.TenantBlock => $"10.7.{key.Index - 190}.{1 + (day * 7 + random.Next(3)) % 250}",
        _ => $"192.0.2.{1 + (day * 11 + key.Index + random.Next(2)) % 250}",
    };
}
