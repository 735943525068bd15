using System.Net;
using System.Text.Json;
using FuncKeyOps.Tests.ProviderKeys;
using Microsoft.Extensions.Time.Testing;
using static FuncKeyOps.Tests.ProviderKeys.ProviderKeyCalls;

namespace FuncKeyOps.Tests.Relay;

/// <summary>A provider key's <c>rpm</c> counts upstream requests: every retry takes its own permit.</summary>
public class ProviderKeyRpmPerRequestTests
{
    [Fact]
    public async Task With_rpm_2_the_provider_receives_at_most_2_requests_in_the_minute_retries_included()
    {
        // The limiter's window is the UTC minute of this clock, which stands still: every call falls in one minute.
        var now = DateTimeOffset.UtcNow;
        var time = new FakeTimeProvider(new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero));
        await using var host = await RelayHost.StartAsync(settings: new Dictionary<string, string?> { ["Relay:MaxRetries"] = "2" }, time: time);
        const string value = "fake-openai-limited-0123456789abcdef";
        host.OpenAI.AcceptKey(value);
        await ActiveProviderKeys.RegisterAsync(host.Server, "openai-limited", "openai", host.OpenAI.BaseUri, value, rpm: 2);
        var (_, secret) = await CreateRelayKeyAsync(host.Client,
            new { tenant = "tests", name = "limited", providerKeys = new Dictionary<string, string> { ["openai"] = "openai-limited" } });
        // Every request fails retryably, with Retry-After 0 so the retries need no clock to move.
        host.OpenAI.FailNext(503, times: 20, retryAfter: TimeSpan.Zero);

        var statuses = new List<(HttpStatusCode Status, string? Code)>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await host.Client.SendAsync(OpenAIChat(secret));
            var code = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString();
            statuses.Add((response.StatusCode, code));
        }

        Assert.Equal(2, host.OpenAI.Requests.Count); // the first call's send and one retry; then no permit is left
        Assert.All(statuses, s => Assert.Equal((HttpStatusCode.TooManyRequests, "provider_keys_busy"), s));
    }

    [Fact]
    public async Task A_429_about_the_request_alone_is_the_calls_answer_and_spends_no_retry_while_a_rate_limit_429_is_retried()
    {
        await using var host = await RelayHost.StartAsync(settings: new Dictionary<string, string?> { ["Relay:MaxRetries"] = "2" });
        var (_, secret) = await host.CreateRelayKeyAsync();

        // Once only: a retry would be served, so only a relay that does not retry answers the 429.
        host.OpenAI.FailNextRequestTooLarge();
        using (var tooLarge = await host.Client.SendAsync(OpenAIChat(secret)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, tooLarge.StatusCode);
            Assert.Contains("Request too large", await tooLarge.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Single(host.OpenAI.Requests); // retrying would only be refused again, each retry a request of the key's rpm

        // The key's own limit spent (its headers say so): that one is worth a retry.
        var before = host.OpenAI.Requests.Count;
        host.OpenAI.FailNext(429, retryAfter: TimeSpan.Zero);
        using var retried = await host.Client.SendAsync(OpenAIChat(secret));
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal(before + 2, host.OpenAI.Requests.Count);
    }
}
