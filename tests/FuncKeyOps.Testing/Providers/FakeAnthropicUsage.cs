using System.Globalization;
using System.Text.Json.Nodes;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// Anthropic's messages usage report, served by <see cref="FakeAnthropic"/> behind its admin-key check:
/// <c>GET /v1/organizations/usage_report/messages</c> with <c>starting_at</c> (RFC 3339, required), <c>ending_at</c>,
/// <c>bucket_width</c> (<c>1m</c>, <c>1h</c>, <c>1d</c>; default <c>1d</c>), <c>group_by[]</c> (<c>api_key_id</c>, <c>model</c>),
/// <c>api_key_ids[]</c>, <c>limit</c> (buckets per page) and <c>page</c>. Answers
/// <c>{data: [{starting_at, ending_at, results: [...]}], has_more, next_page}</c>, each result
/// <c>{uncached_input_tokens, cache_creation: {ephemeral_1h_input_tokens, ephemeral_5m_input_tokens}, cache_read_input_tokens,
/// output_tokens, server_tool_use, api_key_id, workspace_id, model, service_tier, context_window}</c>: no request count, as
/// at the real report. Usage of a key the fake has no id for (Console use) has <c>api_key_id</c> null.
/// </summary>
public static class FakeAnthropicUsage
{
    private const string Path = "/v1/organizations/usage_report/messages";

    internal static bool Serves(string path) => path.StartsWith("/v1/organizations/usage_report", StringComparison.Ordinal);

    internal static async Task ServeAsync(FakeExchange exchange, FakeBilling billing)
    {
        var request = exchange.Request;
        if (request.Method != "GET" || request.Path.Value != Path)
        {
            await exchange.WriteJsonAsync(404, FakeAnthropic.Error(exchange, "not_found_error", "Not Found"));
            return;
        }

        if (billing.FailingWith is { } failure)
        {
            await exchange.WriteJsonAsync(failure, failure switch
            {
                429 => FakeAnthropic.Error(exchange, "rate_limit_error", "Number of requests has exceeded your rate limit."),
                529 => FakeAnthropic.Error(exchange, "overloaded_error", "Overloaded"),
                _ => FakeAnthropic.Error(exchange, "api_error", "Internal server error"),
            });
            return;
        }

        if (ReadTime(request.Query["starting_at"].ToString()) is not { } startingAt)
        {
            await exchange.WriteJsonAsync(400, FakeAnthropic.Error(exchange, "invalid_request_error", "starting_at: Field required"));
            return;
        }

        if (FakeUsageQuery.Width(request.Query["bucket_width"].ToString()) is not { } bucketWidth)
        {
            await exchange.WriteJsonAsync(400, FakeAnthropic.Error(exchange, "invalid_request_error", "bucket_width: Input should be '1d', '1h' or '1m'"));
            return;
        }

        var (width, defaultLimit, maxLimit) = bucketWidth;
        var limit = defaultLimit;
        if (request.Query.ContainsKey("limit") && (!int.TryParse(request.Query["limit"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > maxLimit))
        {
            await exchange.WriteJsonAsync(400, FakeAnthropic.Error(exchange, "invalid_request_error", $"limit: Input should be between 1 and {maxLimit}"));
            return;
        }

        var start = FakeUsageQuery.Snap(startingAt, width);
        var end = ReadTime(request.Query["ending_at"].ToString()) ?? billing.Clock.GetUtcNow();
        var first = start;
        var page = request.Query["page"].ToString();
        if (page.Length > 0)
        {
            if (FakeUsageQuery.ReadPageToken(page) is not { } next || next < start)
            {
                await exchange.WriteJsonAsync(400, FakeAnthropic.Error(exchange, "invalid_request_error", "page: Invalid page token"));
                return;
            }

            first = next;
        }

        var groupBy = FakeUsageQuery.List(request, "group_by");
        var (buckets, nextPage) = FakeUsageQuery.Page(billing, FakeBilledUsage.Messages, first, end, width, limit,
            groupBy.Contains("api_key_id"), groupBy.Contains("model"), FakeUsageQuery.List(request, "api_key_ids"));
        await exchange.WriteJsonAsync(200, new JsonObject
        {
            ["data"] = new JsonArray([.. buckets.Select(b => (JsonNode?)new JsonObject
            {
                ["starting_at"] = Format(b.Start),
                ["ending_at"] = Format(b.End),
                ["results"] = new JsonArray([.. b.Groups.Select(g => (JsonNode?)Result(g))]),
            })]),
            ["has_more"] = nextPage is not null,
            ["next_page"] = nextPage is { } n ? FakeUsageQuery.PageToken(n) : null,
        });
    }

    private static JsonObject Result(FakeUsageQuery.Group group) => new()
    {
        ["uncached_input_tokens"] = group.UncachedInputTokens,
        ["cache_creation"] = new JsonObject
        {
            ["ephemeral_1h_input_tokens"] = group.CacheCreation1hInputTokens,
            ["ephemeral_5m_input_tokens"] = group.CacheCreation5mInputTokens,
        },
        ["cache_read_input_tokens"] = group.CacheReadInputTokens,
        ["output_tokens"] = group.OutputTokens,
        ["server_tool_use"] = new JsonObject { ["web_search_requests"] = 0 },
        ["api_key_id"] = group.ApiKeyId,
        ["workspace_id"] = null,
        ["model"] = group.Model,
        ["service_tier"] = null,
        ["context_window"] = null,
    };

    private static DateTimeOffset? ReadTime(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time) ? time : null;

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
}
