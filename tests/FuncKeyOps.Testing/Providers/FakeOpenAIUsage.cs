using System.Globalization;
using System.Text.Json.Nodes;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// OpenAI's organization usage API, served by <see cref="FakeOpenAI"/> behind its admin-key check:
/// <c>GET /v1/organization/usage/completions</c> and <c>GET /v1/organization/usage/embeddings</c> with
/// <c>start_time</c> (Unix seconds, required), <c>end_time</c> (exclusive), <c>bucket_width</c> (<c>1m</c>, <c>1h</c>,
/// <c>1d</c>; default <c>1d</c>), <c>group_by</c> (<c>api_key_id</c>, <c>model</c>), <c>api_key_ids</c>, <c>limit</c> (buckets
/// per page) and <c>page</c> (the <c>next_page</c> of the answer before). Answers
/// <c>{object: "page", data: [{object: "bucket", start_time, end_time, results: [...]}], has_more, next_page}</c>, one bucket
/// per width in the range, empty ones included; a result is
/// <c>organization.usage.completions.result</c> (<c>input_tokens</c>, <c>output_tokens</c>, <c>input_cached_tokens</c>,
/// <c>num_model_requests</c>, <c>api_key_id</c>, ...) or <c>organization.usage.embeddings.result</c> (<c>input_tokens</c>,
/// <c>num_model_requests</c>, <c>api_key_id</c>, ...), from what <see cref="FakeBilling"/> recorded.
/// </summary>
public static class FakeOpenAIUsage
{
    private const string Prefix = "/v1/organization/usage/";

    internal static bool Serves(string path) => path.StartsWith(Prefix, StringComparison.Ordinal);

    internal static async Task ServeAsync(FakeExchange exchange, FakeBilling billing)
    {
        var request = exchange.Request;
        var kind = request.Path.Value![Prefix.Length..];
        if (request.Method != "GET" || kind is not (FakeBilledUsage.Completions or FakeBilledUsage.Embeddings))
        {
            await exchange.WriteJsonAsync(404, FakeOpenAI.Error($"Invalid URL ({request.Method} {request.Path.Value})", "invalid_request_error"));
            return;
        }

        if (billing.FailingWith is { } failure)
        {
            await exchange.WriteJsonAsync(failure, FakeOpenAI.Error(
                failure == 429 ? "Rate limit reached for requests. Please try again later." : "The server had an error while processing your request. Sorry about that!",
                failure == 429 ? "requests" : "server_error"));
            return;
        }

        if (!long.TryParse(request.Query["start_time"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var startSeconds))
        {
            await exchange.WriteJsonAsync(400, FakeOpenAI.Error("Missing required parameter: 'start_time'.", "invalid_request_error", "start_time", "missing_required_parameter"));
            return;
        }

        if (FakeUsageQuery.Width(request.Query["bucket_width"].ToString()) is not { } bucketWidth)
        {
            await exchange.WriteJsonAsync(400, FakeOpenAI.Error("Invalid value for 'bucket_width': expected one of 1m, 1h, 1d.", "invalid_request_error", "bucket_width"));
            return;
        }

        var (width, defaultLimit, maxLimit) = bucketWidth;
        var limit = defaultLimit;
        if (request.Query.ContainsKey("limit") && (!int.TryParse(request.Query["limit"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > maxLimit))
        {
            await exchange.WriteJsonAsync(400, FakeOpenAI.Error($"Invalid value for 'limit': at most {maxLimit} for bucket_width {request.Query["bucket_width"]}.", "invalid_request_error", "limit"));
            return;
        }

        var start = FakeUsageQuery.Snap(DateTimeOffset.FromUnixTimeSeconds(startSeconds), width);
        var end = long.TryParse(request.Query["end_time"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var endSeconds)
            ? DateTimeOffset.FromUnixTimeSeconds(endSeconds)
            : billing.Clock.GetUtcNow();
        var first = start;
        var page = request.Query["page"].ToString();
        if (page.Length > 0)
        {
            if (FakeUsageQuery.ReadPageToken(page) is not { } next || next < start)
            {
                await exchange.WriteJsonAsync(400, FakeOpenAI.Error("Invalid value for 'page'.", "invalid_request_error", "page"));
                return;
            }

            first = next;
        }

        var groupBy = FakeUsageQuery.List(request, "group_by");
        var (buckets, nextPage) = FakeUsageQuery.Page(billing, kind, first, end, width, limit,
            groupBy.Contains("api_key_id"), groupBy.Contains("model"), FakeUsageQuery.List(request, "api_key_ids"));
        await exchange.WriteJsonAsync(200, new JsonObject
        {
            ["object"] = "page",
            ["data"] = new JsonArray([.. buckets.Select(b => (JsonNode?)new JsonObject
            {
                ["object"] = "bucket",
                ["start_time"] = b.Start.ToUnixTimeSeconds(),
                ["end_time"] = b.End.ToUnixTimeSeconds(),
                ["results"] = new JsonArray([.. b.Groups.Select(g => (JsonNode?)Result(kind, g))]),
            })]),
            ["has_more"] = nextPage is not null,
            ["next_page"] = nextPage is { } n ? FakeUsageQuery.PageToken(n) : null,
        });
    }

    private static JsonObject Result(string kind, FakeUsageQuery.Group group)
    {
        var result = new JsonObject
        {
            ["object"] = $"organization.usage.{kind}.result",
            ["input_tokens"] = group.InputTokens,
        };
        if (kind == FakeBilledUsage.Completions)
        {
            result["output_tokens"] = group.OutputTokens;
            result["input_cached_tokens"] = group.CacheReadInputTokens;
            result["input_audio_tokens"] = 0;
            result["output_audio_tokens"] = 0;
        }

        result["num_model_requests"] = group.Requests;
        result["project_id"] = null;
        result["user_id"] = null;
        result["api_key_id"] = group.ApiKeyId;
        result["model"] = group.Model;
        if (kind == FakeBilledUsage.Completions)
        {
            result["batch"] = null;
            result["service_tier"] = null;
        }

        return result;
    }
}
