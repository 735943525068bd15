using System.Globalization;
using System.Net;
using System.Text.Json;
using FuncKeyOps.Relay;
using FuncKeyOps.Tests.Routing;
using Microsoft.Extensions.Time.Testing;
using static FuncKeyOps.Tests.ProviderKeys.ProviderKeyCalls;

namespace FuncKeyOps.Tests.Relay;

/// <summary>
/// Every Retry-After the relay sends is read safely from the provider (seconds, HTTP dates, negatives, garbage) and is
/// never longer than the longest rest the relay itself imposes (<c>Relay:Circuit:MaxBreakDuration</c>).
/// </summary>
public class RetryAfterTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("0", 0)]
    [InlineData("7", 7)]
    [InlineData(" 120 ", 120)]
    [InlineData("86400", 86400)]
    [InlineData("Mon, 07 Dec 2026 12:00:30 GMT", 30)] // a date ahead of our clock
    [InlineData("Mon, 07 Dec 2026 11:00:00 GMT", 0)] // a date behind it: no wait, not a negative one
    public void A_provider_Retry_After_in_seconds_or_as_an_HTTP_date_is_a_wait_from_our_clock(string value, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), RetryAfterHeader.Parse(value, Now));

    [Theory]
    [InlineData("")]
    [InlineData("-5")]
    [InlineData("1.5")]
    [InlineData("5s")]
    [InlineData("soon")]
    [InlineData("0x10")]
    [InlineData("Mon, 99 Foo 2026 25:00:00 GMT")]
    public void A_negative_fractional_or_garbage_Retry_After_is_no_hint(string value) =>
        Assert.Null(RetryAfterHeader.Parse(value, Now));

    [Fact]
    public void A_Retry_After_past_any_range_is_capped_not_overflowed()
    {
        var huge = RetryAfterHeader.Parse("99999999999999999999999", Now);
        Assert.NotNull(huge);
        Assert.Equal(TimeSpan.FromMinutes(5), RetryAfterHeader.Cap(huge.Value, TimeSpan.FromMinutes(5)));
        Assert.Equal("1", RetryAfterHeader.Format(TimeSpan.Zero));
        Assert.Equal("2", RetryAfterHeader.Format(TimeSpan.FromSeconds(1.2)));
        Assert.Equal(((long)TimeSpan.FromDays(365).TotalSeconds).ToString(CultureInfo.InvariantCulture), RetryAfterHeader.Format(TimeSpan.MaxValue));
    }

    [Fact]
    public void A_response_is_read_against_the_given_clock_and_capped()
    {
        var time = new FakeTimeProvider(Now);
        using var dated = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        dated.Headers.TryAddWithoutValidation("Retry-After", "Mon, 07 Dec 2026 12:10:00 GMT");
        Assert.Equal(TimeSpan.FromMinutes(10), RetryAfterHeader.From(dated, time));
        Assert.Equal(TimeSpan.FromMinutes(5), RetryAfterHeader.From(dated, time, TimeSpan.FromMinutes(5)));
        time.Advance(TimeSpan.FromMinutes(8));
        Assert.Equal(TimeSpan.FromMinutes(2), RetryAfterHeader.From(dated, time, TimeSpan.FromMinutes(5)));

        using var garbage = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        garbage.Headers.TryAddWithoutValidation("Retry-After", "-30");
        Assert.Null(RetryAfterHeader.From(garbage, time, TimeSpan.FromMinutes(5)));
        using var none = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        Assert.Null(RetryAfterHeader.From(none, time, TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public async Task A_pools_provider_keys_busy_tells_the_client_at_most_the_longest_member_rest_not_the_providers_day()
    {
        await using var regions = await PoolRegions.StartAsync();
        regions.East.FailNext(429, times: 2, retryAfter: TimeSpan.FromDays(1));
        regions.West.FailNext(429, times: 2, retryAfter: TimeSpan.FromDays(1));

        var answers = new List<(int Status, string Body, string? RetryAfter)>();
        for (var i = 0; i < 3; i++)
            answers.Add(await regions.ChatAsync());

        // Sent to both members, then both resting: every answer is 429 provider_keys_busy with at most 300 s.
        Assert.Equal((2, 2), (regions.East.Requests.Count, regions.West.Requests.Count));
        Assert.All(answers, a =>
        {
            Assert.Equal(429, a.Status);
            Assert.Equal("provider_keys_busy", JsonDocument.Parse(a.Body).RootElement.GetProperty("error").GetProperty("code").GetString());
            Assert.InRange(int.Parse(a.RetryAfter!, CultureInfo.InvariantCulture), 1, 300);
        });
    }

    [Fact]
    public async Task A_relayed_provider_429_carries_its_Retry_After_capped_and_an_honest_one_as_sent()
    {
        await using var host = await RelayHost.StartAsync(settings: new Dictionary<string, string?> { ["Relay:MaxRetries"] = "0" });
        var (_, secret) = await host.CreateRelayKeyAsync();

        host.OpenAI.FailNext(429, retryAfter: TimeSpan.FromDays(1));
        using (var capped = await host.Client.SendAsync(OpenAIChat(secret)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, capped.StatusCode);
            Assert.Equal("300", capped.Headers.GetValues("Retry-After").Single());
        }

        host.OpenAI.FailNext(429, retryAfter: TimeSpan.FromSeconds(12));
        using var honest = await host.Client.SendAsync(OpenAIChat(secret));
        Assert.Equal(HttpStatusCode.TooManyRequests, honest.StatusCode);
        Assert.Equal("12", honest.Headers.GetValues("Retry-After").Single());
    }
}
