using FuncKeyOps.Anomalies.ShadowUsage;
using FuncKeyOps.Testing.Providers;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// The usage report clients against the fakes' usage APIs over real HTTP: every page of a range longer than one page
/// (168 hourly buckets), per key and hour, only the keys asked for, with each provider's own way of counting input.
/// </summary>
public sealed class UsageReportTests
{
    private const int Hours = 200;
    private static readonly DateTimeOffset From = ShadowHarness.CallHour.AddHours(-Hours - 1);

    [Fact]
    public async Task OpenAI_completions_and_embeddings_are_read_over_every_page_and_summed_per_key_and_hour()
    {
        await using var h = await ShadowHarness.StartAsync();
        var key = await h.AddOpenAIKeyAsync();
        for (var i = 0; i < Hours; i++)
        {
            var at = From.AddHours(i).AddMinutes(7);
            h.OpenAI.Billing.Add(new FakeBilledUsage(at, FakeBilledUsage.Completions, key.UsageKeyId, "gpt-4o-mini", Requests: i + 1, InputTokens: 100 + i, OutputTokens: 10));
            h.OpenAI.Billing.Add(new FakeBilledUsage(at, FakeBilledUsage.Embeddings, key.UsageKeyId, "text-embedding-3-small", Requests: 2, InputTokens: 40, OutputTokens: 0));
            h.OpenAI.Billing.Add(new FakeBilledUsage(at, FakeBilledUsage.Completions, "key_other", "gpt-4o-mini", Requests: 1_000, InputTokens: 1, OutputTokens: 1));
        }

        var report = Report(h, "openai");
        var answer = await report.ReadAsync(key.Config, [report.UsageKeyId(key.ProviderKeyId)!], From, From.AddHours(Hours), CancellationToken.None);

        Assert.Null(answer.Failure);
        Assert.Equal(Hours, answer.Usage.Count);
        Assert.All(Enumerable.Range(0, Hours), i =>
            Assert.Equal(new ProviderHourUsage(i + 1 + 2, 100 + i + 40, 10), answer.Usage[(key.UsageKeyId, From.AddHours(i))]));
        var pages = h.OpenAI.Requests.Where(r => r.Path.StartsWith("/v1/organization/usage/", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, pages.Count(r => r.Path.EndsWith("/completions", StringComparison.Ordinal)));
        Assert.Equal(2, pages.Count(r => r.Path.EndsWith("/embeddings", StringComparison.Ordinal)));
        Assert.Equal(2, pages.Count(r => r.Query.Contains("page=", StringComparison.Ordinal)));
        Assert.All(pages, r => Assert.Equal("Bearer " + key.AdminKey, r.Header("Authorization")));
    }

    [Fact]
    public async Task Anthropic_input_is_uncached_plus_cache_reads_and_writes_read_over_every_page_with_no_request_count()
    {
        await using var h = await ShadowHarness.StartAsync();
        var key = await h.AddAnthropicKeyAsync();
        for (var i = 0; i < Hours; i++)
        {
            var at = From.AddHours(i).AddMinutes(7);
            h.Anthropic.Billing.Add(new FakeBilledUsage(at, FakeBilledUsage.Messages, key.UsageKeyId, "claude-haiku-4-5-20251001", Requests: 3, InputTokens: 1_000 + i,
                OutputTokens: 50, CacheReadInputTokens: 300, CacheCreation5mInputTokens: 100, CacheCreation1hInputTokens: 50));
            h.Anthropic.Billing.Add(new FakeBilledUsage(at, FakeBilledUsage.Messages, ApiKeyId: null, "claude-haiku-4-5-20251001", 1, 5_000, 5_000)); // Console use
        }

        var report = Report(h, "anthropic");
        var answer = await report.ReadAsync(key.Config, [key.UsageKeyId], From, From.AddHours(Hours), CancellationToken.None);

        Assert.Null(answer.Failure);
        Assert.Equal(Hours, answer.Usage.Count);
        Assert.All(Enumerable.Range(0, Hours), i =>
            Assert.Equal(new ProviderHourUsage(null, 1_000 + i, 50), answer.Usage[(key.UsageKeyId, From.AddHours(i))]));
        var pages = h.Anthropic.Requests.Where(r => r.Path == "/v1/organizations/usage_report/messages").ToList();
        Assert.Equal(2, pages.Count);
        Assert.All(pages, r => Assert.Equal(key.AdminKey, r.Header("x-api-key")));
    }

    [Fact]
    public async Task A_usage_API_answering_429_or_500_is_a_failure_that_names_no_key()
    {
        await using var h = await ShadowHarness.StartAsync();
        var openAI = await h.AddOpenAIKeyAsync();
        var anthropic = await h.AddAnthropicKeyAsync();
        h.OpenAI.Billing.FailReports(429);
        h.Anthropic.Billing.FailReports(500);

        var openAIAnswer = await Report(h, "openai").ReadAsync(openAI.Config, [openAI.UsageKeyId], From, From.AddHours(1), CancellationToken.None);
        var anthropicAnswer = await Report(h, "anthropic").ReadAsync(anthropic.Config, [anthropic.UsageKeyId], From, From.AddHours(1), CancellationToken.None);

        Assert.Contains("429", openAIAnswer.Failure, StringComparison.Ordinal);
        Assert.Contains("500", anthropicAnswer.Failure, StringComparison.Ordinal);
        Assert.Empty(openAIAnswer.Usage);
        Tests.Rotation.Connectors.ConnectorHarness.AssertNoPartOf(openAI.AdminKey, openAIAnswer.Failure!);
        Tests.Rotation.Connectors.ConnectorHarness.AssertNoPartOf(anthropic.AdminKey, anthropicAnswer.Failure!);
    }

    private static IProviderUsageReport Report(ShadowHarness h, string connector) =>
        h.Service<IEnumerable<IProviderUsageReport>>().Single(r => r.Connector == connector);
}
