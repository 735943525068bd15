using FuncKeyOps.Relay;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Relay;

/// <summary>The idle timer on its own: what counts as the provider going quiet, and that a read costs no allocation.</summary>
public class UpstreamIdleTimerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    [Fact]
    public void It_expires_after_the_timeout_without_bytes_and_each_read_with_bytes_restarts_it()
    {
        var time = new FakeTimeProvider();
        using var timer = new UpstreamIdleTimer(Timeout, time, CancellationToken.None);

        time.Advance(Timeout - TimeSpan.FromSeconds(1));
        timer.Restart();
        time.Advance(Timeout - TimeSpan.FromSeconds(1));
        Assert.False(timer.Token.IsCancellationRequested);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(timer.Token.IsCancellationRequested);
        Assert.True(timer.Expired);
    }

    [Fact]
    public void A_client_that_leaves_cancels_the_reads_but_is_not_a_stall()
    {
        using var client = new CancellationTokenSource();
        using var timer = new UpstreamIdleTimer(Timeout, new FakeTimeProvider(), client.Token);

        client.Cancel();

        Assert.True(timer.Token.IsCancellationRequested);
        Assert.False(timer.Expired);
    }

    [Fact]
    public void Restarting_on_a_read_allocates_nothing()
    {
        using var timer = new UpstreamIdleTimer(Timeout, TimeProvider.System, CancellationToken.None);
        for (var i = 0; i < 100; i++)
            timer.Restart();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
            timer.Restart();

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:00:01")]
    [InlineData("2.00:00:00")]
    public void A_stream_idle_timeout_that_is_not_positive_or_beyond_a_day_is_refused(string value)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Relay:StreamIdleTimeout"] = value })
            .Build();
        using var services = new ServiceCollection().AddRelay(configuration).BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<RelayOptions>>().Value);
        Assert.Contains("Relay:StreamIdleTimeout", error.Message, StringComparison.Ordinal);
    }
}
