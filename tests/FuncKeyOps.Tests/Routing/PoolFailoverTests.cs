using System.Collections.Concurrent;
using System.Text.Json;
using FuncKeyOps.Audit;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Providers;
using FuncKeyOps.Routing;

namespace FuncKeyOps.Tests.Routing;

/// <summary>
/// A pool of two Azure OpenAI regions behind the real relay: a member that answers 429, is down or fails is passed by
/// before the client's first byte, its circuit (Polly) keeps it out for the provider's Retry-After or the default
/// break, and every failed attempt is an audit row naming its member.
/// </summary>
public class PoolFailoverTests
{
    [Fact]
    public async Task A_region_answering_429_with_Retry_After_2_is_passed_by_for_2_seconds_with_no_failed_call_then_serves_again()
    {
        await using var regions = await PoolRegions.StartAsync();
        // Two answers open its circuit (Relay:Circuit:MinimumThroughput 2); its next call is the probe after the break.
        regions.East.FailNext(429, times: 2, retryAfter: TimeSpan.FromSeconds(2));
        var backInRotation = regions.East.WaitForRequestsAsync(3);

        var calls = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!backInRotation.IsCompleted)
        {
            deadline.Token.ThrowIfCancellationRequested(); // east never back: fail rather than call forever
            var (status, body, _) = await regions.ChatAsync();
            Assert.True(status == 200, body);
            calls++;
            // Traffic every 50 ms until east sees a call again; the wait ends at once when it does.
            await Task.WhenAny(backInRotation, Task.Delay(50, deadline.Token));
        }
        var (after, _, _) = await regions.ChatAsync();
        calls++;

        Assert.Equal(200, after);
        var east = regions.East.Requests;
        Assert.Equal(4, east.Count); // two 429s, the probe, and the call after it: east serves again
        var out_ = east[2].Received - east[1].Received;
        Assert.InRange(out_, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3.5)); // the Retry-After, not the 30 s default break
        Assert.Equal(calls - 2, regions.West.Requests.Count); // every call east did not serve, and only those
        Assert.All(regions.West.Requests, r => Assert.InRange(r.Received, east[0].Received, east[2].Received));

        var rows = await regions.RowsAsync();
        var failed = rows.Where(r => r.Attempt == 1).ToList();
        Assert.Equal(2, failed.Count);
        Assert.All(failed, r => Assert.Equal((PoolRegions.EastKey, 429, "provider_keys_busy", 429), (r.ProviderKeyName, r.Status, r.ErrorCode, r.UpstreamStatus)));
        foreach (var attempt in failed)
        {
            var call = Assert.Single(rows, r => attempt.RequestId == r.RequestId + AuditRecord.FirstAttemptSuffix);
            Assert.Equal((PoolRegions.WestKey, 200, 2, null), (call.ProviderKeyName, call.Status, call.Attempt, call.ErrorCode));
        }
        Assert.Equal(calls, rows.Count(r => r.Attempt != 1 && r.Status == 200));
        Assert.Equal(2, rows.Count(r => r.ProviderKeyName == PoolRegions.EastKey && r.Status == 200));
    }

    [Fact]
    public async Task A_region_that_is_down_fails_no_call_and_is_tried_only_until_its_circuit_opens()
    {
        await using var regions = await PoolRegions.StartAsync();
        await regions.East.DisposeAsync(); // its port refuses connections from now on

        const int calls = 10;
        for (var i = 0; i < calls; i++)
        {
            var (status, body, _) = await regions.ChatAsync();
            Assert.True(status == 200, body);
        }

        Assert.Equal(calls, regions.West.Requests.Count);
        var rows = await regions.RowsAsync();
        var failed = rows.Where(r => r.Attempt == 1).ToList();
        Assert.Equal(2, failed.Count); // Relay:Circuit:MinimumThroughput: then east is out for the default break (30 s)
        Assert.All(failed, r => Assert.Equal((PoolRegions.EastKey, 502, "upstream_unreachable", null), (r.ProviderKeyName, r.Status, r.ErrorCode, r.UpstreamStatus)));
        Assert.Equal(calls, rows.Count(r => r.Attempt != 1 && r.Status == 200 && r.ProviderKeyName == PoolRegions.WestKey));
    }

    [Fact]
    public async Task One_tenants_oversized_calls_answered_429_request_too_large_take_no_member_out_and_another_tenants_call_is_served()
    {
        await using var regions = await PoolRegions.StartAsync();
        var victim = await regions.CreateTenantKeyAsync("victim");
        // Both regions refuse the attacker's requests for their size alone; their limits have room (headers say so).
        regions.East.FailNextRequestTooLarge(times: 3);
        regions.West.FailNextRequestTooLarge(times: 3);

        for (var i = 0; i < 3; i++)
        {
            var (status, body, _) = await regions.ChatAsync();
            // The provider's own answer to that call, not the relay's provider_keys_busy: it is about the request.
            Assert.Equal(429, status);
            Assert.Contains("Reduce the size of the request", body, StringComparison.Ordinal);
        }

        var (served, answer, _) = await regions.ChatAsync(victim);
        Assert.True(served == 200, answer);
        Assert.Empty(regions.West.Requests); // no failover either: another member would refuse the same request
        Assert.Equal(4, regions.East.Requests.Count);
        Assert.DoesNotContain(regions.Host.Server.Logs.Lines, line => line.Contains("taken out of its pool", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("x-ratelimit-remaining-requests", "0", true)]
    [InlineData("x-ratelimit-remaining-tokens", "0", true)]
    [InlineData("x-ratelimit-remaining-tokens", "29990", false)]
    [InlineData("anthropic-ratelimit-input-tokens-remaining", "0", true)]
    [InlineData("anthropic-ratelimit-requests-remaining", "12", false)]
    [InlineData("x-request-id", "0", false)]
    public void A_429_is_the_keys_own_only_when_its_rate_limit_headers_show_a_limit_spent(string header, string value, bool spent)
    {
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);
        response.Headers.TryAddWithoutValidation(header, value);
        Assert.Equal(spent, ((IProviderAdapter)new OpenAIAdapter()).IsKeyLimitSpent(response));
        Assert.Equal(spent, ((IProviderAdapter)new AnthropicAdapter()).IsKeyLimitSpent(response));
        Assert.True(new GeminiAdapter().IsKeyLimitSpent(response)); // Google's 429 is always the project's quota
    }

    [Fact]
    public async Task Both_regions_down_is_a_502_in_Azures_shape_after_exactly_one_attempt_each_with_a_row_per_attempt()
    {
        await using var regions = await PoolRegions.StartAsync();
        // Connections cut before any answer: unreachable, and seen in each region's request log.
        regions.East.DropNext(5);
        regions.West.DropNext(5);

        var (status, body, _) = await regions.ChatAsync();

        Assert.Equal(502, status);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal("upstream_unreachable", error.GetProperty("code").GetString());
        Assert.Single(regions.East.Requests);
        Assert.Single(regions.West.Requests);
        var rows = await regions.RowsAsync();
        Assert.Equal(2, rows.Count);
        var first = Assert.Single(rows, r => r.Attempt == 1);
        var call = Assert.Single(rows, r => r.Attempt == 2);
        Assert.Equal(call.RequestId + AuditRecord.FirstAttemptSuffix, first.RequestId);
        Assert.Equal((PoolRegions.EastKey, 502, "upstream_unreachable"), (first.ProviderKeyName, first.Status, first.ErrorCode));
        Assert.Equal((PoolRegions.WestKey, 502, "upstream_unreachable"), (call.ProviderKeyName, call.Status, call.ErrorCode));
    }

    [Fact]
    public async Task Every_region_resting_after_429s_is_a_429_provider_keys_busy_with_the_soonest_Retry_After_and_no_call_sent()
    {
        await using var regions = await PoolRegions.StartAsync();
        regions.East.FailNext(429, times: 2, retryAfter: TimeSpan.FromSeconds(30));
        regions.West.FailNext(429, times: 2, retryAfter: TimeSpan.FromSeconds(20));

        var answers = new List<(int Status, string Body, string? RetryAfter)>();
        for (var i = 0; i < 3; i++)
            answers.Add(await regions.ChatAsync());

        // The first two reach both regions (the provider's 429s); the third finds both circuits open.
        Assert.All(answers, a => Assert.Equal(429, a.Status));
        Assert.All(answers, a => Assert.Equal("provider_keys_busy", JsonDocument.Parse(a.Body).RootElement.GetProperty("error").GetProperty("code").GetString()));
        Assert.Equal(("20", "20"), (answers[0].RetryAfter, answers[1].RetryAfter));
        Assert.InRange(int.Parse(answers[2].RetryAfter!, System.Globalization.CultureInfo.InvariantCulture), 18, 20); // west's break, the sooner
        Assert.Equal((2, 2), (regions.East.Requests.Count, regions.West.Requests.Count));
        var rows = await regions.RowsAsync();
        var unsent = Assert.Single(rows, r => r.Attempt is null);
        Assert.Equal((429, "provider_keys_busy", null), (unsent.Status, unsent.ErrorCode, unsent.ProviderKeyName));
    }

    [Fact]
    public async Task The_second_region_receives_its_own_deployment_name_while_the_audit_keeps_the_clients()
    {
        await using var regions = await PoolRegions.StartAsync(westDeployments: new Dictionary<string, string> { [PoolRegions.Deployment] = "gpt4o-mini-westeu" });
        regions.West.AddDeployment("gpt4o-mini-westeu", "gpt-4o-mini-2024-07-18");
        regions.East.FailNext(503);

        var (status, body, _) = await regions.ChatAsync();

        Assert.True(status == 200, body);
        Assert.Equal("/openai/deployments/gpt-4o-mini/chat/completions", Assert.Single(regions.East.Requests).Path);
        var west = Assert.Single(regions.West.Requests);
        Assert.Equal("/openai/deployments/gpt4o-mini-westeu/chat/completions", west.Path);
        Assert.Equal("?api-version=2024-10-21", west.Query);
        var rows = await regions.RowsAsync();
        var failed = Assert.Single(rows, r => r.Attempt == 1);
        Assert.Equal((PoolRegions.EastKey, "upstream_error", 503), (failed.ProviderKeyName, failed.ErrorCode, failed.UpstreamStatus));
        var served = Assert.Single(rows, r => r.Attempt == 2);
        Assert.Equal((PoolRegions.WestKey, PoolRegions.Deployment, 200), (served.ProviderKeyName, served.Model, served.Status));
    }

    [Fact]
    public async Task A_weighted_pool_spreads_its_first_attempts_by_weight()
    {
        await using var regions = await PoolRegions.StartAsync(PoolMode.Weighted, eastWeight: 3, westWeight: 1);

        const int calls = 40;
        for (var i = 0; i < calls; i++)
            Assert.Equal(200, (await regions.ChatAsync()).Status);

        // 3:1 over 40 calls: odds of a region getting none are below 1e-5 (west) and 1e-24 (east).
        Assert.Equal(calls, regions.East.Requests.Count + regions.West.Requests.Count);
        Assert.InRange(regions.West.Requests.Count, 1, calls / 2);
        Assert.All(await regions.RowsAsync(), r => Assert.Null(r.Attempt));
    }

    [Fact]
    public async Task A_Retry_After_longer_than_MaxBreakDuration_takes_a_member_out_for_MaxBreakDuration_only_and_is_logged()
    {
        await using var regions = await PoolRegions.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Relay:Circuit:BreakDuration"] = "00:00:00.500",
            ["Relay:Circuit:MaxBreakDuration"] = "00:00:01",
        });
        regions.East.FailNext(429, times: 2, retryAfter: TimeSpan.FromHours(1));
        var backInRotation = regions.East.WaitForRequestsAsync(3);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!backInRotation.IsCompleted)
        {
            deadline.Token.ThrowIfCancellationRequested(); // east never back: fail rather than call forever
            Assert.Equal(200, (await regions.ChatAsync()).Status);
            await Task.WhenAny(backInRotation, Task.Delay(50, deadline.Token));
        }

        var east = regions.East.Requests;
        Assert.InRange(east[2].Received - east[1].Received, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2.5));
        Assert.Contains(regions.Host.Server.Logs.Lines, line => line.Contains("Relay:Circuit:MaxBreakDuration", StringComparison.Ordinal)
            && line.Contains(PoolRegions.EastKey, StringComparison.Ordinal) && line.Contains("01:00:00", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_member_over_its_own_limit_is_passed_by_unsent_and_the_tokens_count_against_the_member_that_served()
    {
        var limiter = new RefusingLimiter(PoolRegions.EastKey, TimeSpan.FromSeconds(7));
        await using var regions = await PoolRegions.StartAsync(limiter: limiter);

        var (status, body, _) = await regions.ChatAsync();

        Assert.True(status == 200, body);
        Assert.Empty(regions.East.Requests);
        Assert.Single(regions.West.Requests);
        Assert.Equal([PoolRegions.EastKey, PoolRegions.WestKey], limiter.Asked);
        var row = Assert.Single(await regions.RowsAsync());
        Assert.Equal((PoolRegions.WestKey, null), (row.ProviderKeyName, row.Attempt));
        var (key, usage) = Assert.Single(limiter.Recorded);
        Assert.Equal((PoolRegions.WestKey, regions.West.Usage.InputTokens, regions.West.Usage.OutputTokens), (key, usage.InputTokens, usage.OutputTokens));

        // Both refused (east by its limit, west by its own): 429 with the soonest room of the two, nothing sent.
        limiter.Refuse(PoolRegions.WestKey, TimeSpan.FromSeconds(3));
        var (busy, _, retryAfter) = await regions.ChatAsync();
        Assert.Equal((429, "3"), (busy, retryAfter));
        Assert.Single(regions.West.Requests);
    }

    /// <summary>Refuses the keys it is told to, with their room-again time, and records what it is asked and told.</summary>
    private sealed class RefusingLimiter : IProviderKeyLimiter
    {
        private readonly ConcurrentDictionary<string, TimeSpan> _refused = new(StringComparer.Ordinal);

        public RefusingLimiter(string key, TimeSpan retryAfter) => Refuse(key, retryAfter);

        public ConcurrentQueue<string> AskedQueue { get; } = new();
        public IReadOnlyList<string> Asked => [.. AskedQueue];
        public ConcurrentQueue<(string Key, TokenUsage Usage)> Recorded { get; } = new();

        public void Refuse(string key, TimeSpan retryAfter) => _refused[key] = retryAfter;

        public ValueTask<ProviderKeyLimitDecision> TryAcquireAsync(ProviderKeyConfig key, CancellationToken cancellationToken = default)
        {
            AskedQueue.Enqueue(key.Name);
            return new(_refused.TryGetValue(key.Name, out var wait) ? new ProviderKeyLimitDecision(false, wait) : ProviderKeyLimitDecision.Allow);
        }

        public void RecordUsage(ProviderKeyConfig key, TokenUsage usage) => Recorded.Enqueue((key.Name, usage));
    }
}
