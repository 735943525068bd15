using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Sweep;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Tests.Anomalies;

public class SweepOptionsTests
{
    [Theory]
    [InlineData("Anomalies:Schedule", "every five minutes")]
    [InlineData("Anomalies:SettleDelay", "-00:00:01")]
    [InlineData("Anomalies:LeaseDuration", "00:00:00")]
    [InlineData("Anomalies:MaxWindowsPerRun", "0")]
    [InlineData("Anomalies:Thresholds:ErrorRate", "1")]
    [InlineData("Anomalies:Thresholds:ErrorRateMinCalls", "0")]
    [InlineData("Anomalies:Tenants:small:ErrorRate", "1.5")]
    [InlineData("Anomalies:RelayKeys:rk-1:TokensPerWindow", "-1")]
    [InlineData("Anomalies:WarmUp", "00:30:00")]
    [InlineData("Anomalies:Thresholds:VolumeMultiple", "0.5")]
    [InlineData("Anomalies:Thresholds:TokensMinForMultiple", "-1")]
    [InlineData("Anomalies:Thresholds:QuietHoursBaselineShare", "0")]
    [InlineData("Anomalies:Tenants:small:QuietHoursEnd", "1.00:00:00")]
    [InlineData("Anomalies:RelayKeys:rk-1:VolumeMinCalls", "-1")]
    [InlineData("Anomalies:TimeZone", "Mars/Olympus_Mons")]
    [InlineData("Anomalies:Tenants:berlin:TimeZone", "W. Europe Standard Time")] // a Windows id: IANA only
    [InlineData("Anomalies:Thresholds:NewSourceContainCalls", "9")]
    [InlineData("Anomalies:Tenants:small:NewSourceSpreadCalls", "-1")]
    [InlineData("Anomalies:RelayKeys:rk-1:BudgetProjectionAfter", "00:00:00")]
    public void A_bad_setting_is_refused_with_its_name(string setting, string value)
    {
        using var services = Services(new() { [setting] = value });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<AnomalyOptions>>().Value);
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_are_the_issues_and_both_cron_forms_are_taken()
    {
        using var five = Services(new() { ["Anomalies:Schedule"] = "*/5 * * * *" });
        using var six = Services(new());

        var options = six.GetRequiredService<IOptions<AnomalyOptions>>().Value;
        Assert.NotNull(five.GetRequiredService<IOptions<AnomalyOptions>>().Value.TryParseSchedule());
        Assert.Equal(("0 */5 * * * *", TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2), AnomalyMode.Act),
            (options.Schedule, options.SettleDelay, options.LeaseDuration, options.Mode));
        Assert.Equal((20, 200, 0.2, 50, 1_000_000L), (options.Thresholds.AuthFailuresPerSource, options.Thresholds.AuthFailuresTotal,
            options.Thresholds.ErrorRate, options.Thresholds.ErrorRateMinCalls, options.Thresholds.TokensPerWindow));
        var t = options.Thresholds;
        Assert.Equal((5.0, 100_000L, 5.0, 500L), (t.TokensMultiple, t.TokensMinForMultiple, t.VolumeMultiple, t.VolumeMinCalls));
        Assert.Equal((100L, TimeSpan.FromHours(2), TimeSpan.FromHours(6), 0.1), (t.QuietHoursMinCalls, t.QuietHoursStart, t.QuietHoursEnd, t.QuietHoursBaselineShare));
        Assert.Equal((TimeSpan.FromDays(7), "UTC", TimeZoneInfo.Utc), (options.WarmUp, options.TimeZone, options.TimeZoneFor("anyone")));
        Assert.Equal((10, 100, 50, TimeSpan.FromDays(1)), (options.Thresholds.NewSourceMinCalls, options.Thresholds.NewSourceContainCalls,
            options.Thresholds.NewSourceSpreadCalls, options.Thresholds.BudgetProjectionAfter));
    }

    [Fact]
    public void A_tenant_reads_its_quiet_hours_in_its_own_time_zone_and_the_others_in_the_global_one()
    {
        using var services = Services(new()
        {
            ["Anomalies:TimeZone"] = "America/New_York",
            ["Anomalies:Tenants:berlin:TimeZone"] = "Europe/Berlin",
            ["Anomalies:Tenants:berlin:VolumeMinCalls"] = "50",
            ["Anomalies:RelayKeys:rk-1:QuietHoursStart"] = "22:00:00",
        });
        var options = services.GetRequiredService<IOptions<AnomalyOptions>>().Value;

        Assert.Equal(("Europe/Berlin", "America/New_York"), (options.TimeZoneFor("berlin").Id, options.TimeZoneFor("other").Id));
        Assert.Equal((50L, 500L), (options.For("berlin", "rk-2").VolumeMinCalls, options.For("other", "rk-2").VolumeMinCalls));
        // 22:00 to 06:00 spans midnight.
        var night = options.For("berlin", "rk-1");
        Assert.Equal((true, true, false, false), (night.InQuietHours(TimeSpan.FromHours(23)), night.InQuietHours(TimeSpan.FromHours(5.9)),
            night.InQuietHours(TimeSpan.FromHours(6)), night.InQuietHours(TimeSpan.FromHours(21.9))));
    }

    [Theory]
    [InlineData("Anomalies:Tenants:small:KnownSources", "10.0.0.1/8")]
    [InlineData("Anomalies:RelayKeys:rk-1:KnownSources", "not an address")]
    public void A_known_source_block_that_is_not_one_is_refused_with_its_name(string setting, string value)
    {
        using var services = Services(new() { [setting + ":0"] = "192.0.2.0/24", [setting + ":1"] = value });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<AnomalyOptions>>().Value);
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_relay_keys_threshold_wins_over_its_tenants_which_wins_over_the_global_one()
    {
        using var services = Services(new()
        {
            ["Anomalies:Thresholds:ErrorRate"] = "0.3",
            ["Anomalies:Tenants:small:ErrorRate"] = "0.1",
            ["Anomalies:Tenants:small:TokensPerWindow"] = "1000",
            ["Anomalies:RelayKeys:rk-1:TokensPerWindow"] = "5000",
            ["Anomalies:Mode"] = "observe",
        });
        var options = services.GetRequiredService<IOptions<AnomalyOptions>>().Value;

        Assert.Equal((0.1, 5000L), (options.For("small", "rk-1").ErrorRate, options.For("small", "rk-1").TokensPerWindow));
        Assert.Equal((0.1, 1000L), (options.For("small", "rk-2").ErrorRate, options.For("small", "rk-2").TokensPerWindow));
        Assert.Equal((0.3, 1_000_000L), (options.For("large", "rk-3").ErrorRate, options.For(null, null).TokensPerWindow));
        Assert.Equal(AnomalyMode.Observe, options.Mode);
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    [InlineData(null, "unknown")]
    [InlineData("not-an-address", "not-an-address")]
    public void A_source_is_an_IPv4_address_or_an_IPv6_64(string? address, string expected) =>
        Assert.Equal(expected, SourceKey.Of(address));

    private static ServiceProvider Services(Dictionary<string, string?> settings) =>
        new ServiceCollection()
            .AddAnomalySweeps(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .BuildServiceProvider();
}
