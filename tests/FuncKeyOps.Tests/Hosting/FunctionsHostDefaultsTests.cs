using FuncKeyOps.Hosting;
using FuncKeyOps.Relay;
using Microsoft.Extensions.Configuration;

namespace FuncKeyOps.Tests.Hosting;

/// <summary>
/// Under a Functions host the front end cuts a response that sends nothing for 230 s (Azure; the local host: 240 s).
/// The Functions app's defaults keep the relay's own waits under it, so the relay, not the front end, ends the call
/// and audits what happened.
/// </summary>
public class FunctionsHostDefaultsTests
{
    private static RelayOptions Bind(IConfigurationBuilder builder) =>
        builder.Build().GetSection(RelayOptions.Section).Get<RelayOptions>() ?? new RelayOptions();

    [Fact]
    public void The_relays_longest_silence_before_the_first_byte_and_mid_stream_is_under_the_front_ends_idle_limit()
    {
        var options = Bind(new ConfigurationBuilder().AddFunctionsHostDefaults());

        // Every attempt waits its whole header timeout and every retry its longest Retry-After (backoff jitter: at most
        // RetryBaseDelay * 2^attempt).
        var beforeFirstByte = options.UpstreamTimeout * (options.MaxRetries + 1) + options.MaxRetryAfter * options.MaxRetries
            + Enumerable.Range(0, options.MaxRetries).Aggregate(TimeSpan.Zero, (sum, attempt) => sum + options.RetryBaseDelay * Math.Pow(2, attempt + 1));
        Assert.True(beforeFirstByte < FunctionsHostDefaults.FrontEndIdleLimit, $"{beforeFirstByte.TotalSeconds} s before the first byte");
        Assert.True(options.StreamIdleTimeout < FunctionsHostDefaults.FrontEndIdleLimit, $"{options.StreamIdleTimeout.TotalSeconds} s idle mid-stream");
        // The Server host keeps the library's own defaults, which are above the limit.
        Assert.True(new RelayOptions().StreamIdleTimeout > FunctionsHostDefaults.FrontEndIdleLimit);
    }

    [Fact]
    public void An_operators_setting_wins_over_the_Functions_defaults()
    {
        var builder = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Relay:StreamIdleTimeout"] = "00:10:00",
            ["Relay:UpstreamTimeout"] = "00:00:30",
        });
        builder.AddFunctionsHostDefaults(); // as Program.cs calls it: after the host's own sources

        var options = Bind(builder);

        Assert.Equal(TimeSpan.FromMinutes(10), options.StreamIdleTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), options.UpstreamTimeout);
    }
}
