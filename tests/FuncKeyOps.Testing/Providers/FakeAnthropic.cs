using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// api.anthropic.com: <c>POST /v1/messages</c> (JSON or SSE), <c>POST /v1/messages/count_tokens</c> and <c>GET /v1/models</c>.
/// Auth is <c>x-api-key</c> or <c>Authorization: Bearer</c>; like the real API, a request without <c>anthropic-version</c> is a 400.
/// The Admin API's key list and status updates are served by <see cref="Admin"/> (<see cref="FakeAnthropicAdmin"/>), its
/// messages usage report by <see cref="FakeAnthropicUsage"/> from what <see cref="FakeProvider.Billing"/> recorded.
/// </summary>
public sealed class FakeAnthropic : FakeProvider
{
    private static readonly string[] ModelIds = ["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-1-20250805"];

    private FakeAnthropic()
        : base("anthropic")
    {
        Admin = new FakeAnthropicAdmin(this);
    }

    /// <summary>The organization Admin API: admin keys and the keys an operator made in the Console.</summary>
    public FakeAnthropicAdmin Admin { get; }

    public static Task<FakeAnthropic> StartAsync(params string[] acceptedKeys) => StartFakeAsync(new FakeAnthropic(), acceptedKeys);

    /// <summary><c>{"type":"error","error":{"type","message"},"request_id"}</c>.</summary>
    internal static JsonObject Error(FakeExchange exchange, string type, string message) => new()
    {
        ["type"] = "error",
        ["error"] = new JsonObject { ["type"] = type, ["message"] = message },
        ["request_id"] = exchange.Recorded.RequestId,
    };

    private protected override string NewRequestId() => "req_011C" + FakeIds.Alnum(20);

    private protected override void AddResponseHeaders(HttpResponse response, string requestId)
    {
        response.Headers["request-id"] = requestId;
        response.Headers["anthropic-organization-id"] = "00000000-0000-4000-8000-00000000f4ce";
    }

    // The official C# SDK (13.x) sends its ApiKey as Authorization: Bearer; older SDKs and curl use x-api-key.
    private protected override string? ReadKey(HttpRequest request)
    {
        var apiKey = request.Headers["x-api-key"].ToString();
        return apiKey.Length > 0 ? apiKey : FakeOpenAI.ReadBearer(request);
    }

    // Admin calls authenticate with an admin key, not a model key, so they are answered before the model-key check.
    private protected override async Task<bool> RejectBeforeAuthAsync(FakeExchange exchange)
    {
        if (!FakeAnthropicAdmin.Serves(exchange.Request))
            return false;
        await Admin.ServeAsync(exchange);
        return true;
    }

    private protected override string? BilledKind(HttpRequest request) =>
        request.Method == "POST" && request.Path.Value == "/v1/messages" ? FakeBilledUsage.Messages : null;

    private protected override (int StatusCode, JsonNode Body) Unauthorized(FakeExchange exchange, bool keyMissing) =>
        (401, Error(exchange, "authentication_error", keyMissing ? "x-api-key header is required" : "invalid x-api-key"));

    private protected override void AddRateLimitHeaders(HttpResponse response, bool spent)
    {
        response.Headers["anthropic-ratelimit-requests-limit"] = "50";
        response.Headers["anthropic-ratelimit-requests-remaining"] = spent ? "0" : "49";
        response.Headers["anthropic-ratelimit-input-tokens-limit"] = "40000";
        response.Headers["anthropic-ratelimit-input-tokens-remaining"] = spent ? "0" : "39990";
    }

    private protected override JsonNode FailureBody(FakeExchange exchange, int statusCode) => statusCode switch
    {
        400 => Error(exchange, "invalid_request_error", "Invalid request."),
        401 => Unauthorized(exchange, keyMissing: false).Body,
        402 => Error(exchange, "billing_error", "Your credit balance is too low to access the Anthropic API."),
        403 => Error(exchange, "permission_error", "Your API key does not have permission to use the specified resource."),
        404 => Error(exchange, "not_found_error", "The requested resource could not be found."),
        413 => Error(exchange, "request_too_large", "Request exceeds the maximum allowed number of bytes."),
        429 => Error(exchange, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
        504 => Error(exchange, "timeout_error", "Request timed out."),
        529 => Error(exchange, "overloaded_error", "Overloaded"),
        >= 500 => Error(exchange, "api_error", "Internal server error"),
        _ => Error(exchange, "invalid_request_error", $"Request failed with status {statusCode}."),
    };

    private protected override async Task ServeAsync(FakeExchange exchange)
    {
        if (string.IsNullOrEmpty(exchange.Request.Headers["anthropic-version"].ToString()))
        {
            await exchange.WriteJsonAsync(400, Error(exchange, "invalid_request_error", "anthropic-version: header is required"));
            return;
        }

        var request = exchange.Request;
        var path = request.Path.Value ?? "";
        switch (request.Method, path)
        {
            case ("POST", "/v1/messages"):
                await MessagesAsync(exchange);
                break;
            case ("POST", "/v1/messages/count_tokens"):
                await CountTokensAsync(exchange);
                break;
            case ("GET", "/v1/models"):
                await exchange.WriteJsonAsync(200, ModelList());
                break;
            case ("GET", _) when path.StartsWith("/v1/models/", StringComparison.Ordinal) && ModelIds.Contains(path["/v1/models/".Length..]):
                await exchange.WriteJsonAsync(200, ModelInfo(path["/v1/models/".Length..]));
                break;
            default:
                await exchange.WriteJsonAsync(404, Error(exchange, "not_found_error", "Not Found"));
                break;
        }
    }

    private static async Task MessagesAsync(FakeExchange exchange)
    {
        if (exchange.ReadJsonObject() is not { } body)
        {
            await exchange.WriteJsonAsync(400, Error(exchange, "invalid_request_error", "There was an issue with your request body. Please check it is valid JSON."));
            return;
        }

        var missing = new[] { "model", "max_tokens", "messages" }.FirstOrDefault(field => body[field] is null);
        if (missing is not null)
        {
            await exchange.WriteJsonAsync(400, Error(exchange, "invalid_request_error", $"{missing}: Field required"));
            return;
        }

        var model = body["model"] is JsonValue value && value.TryGetValue(out string? name) ? name : "";
        var stream = body["stream"] is JsonValue flag && flag.TryGetValue(out bool streaming) && streaming;
        var id = "msg_01" + FakeIds.Alnum(22);

        if (!stream)
        {
            var text = new JsonObject { ["type"] = "text", ["text"] = exchange.ReplyText };
            await exchange.WriteJsonAsync(200, Message(id, model, new JsonArray(text), "end_turn", UsageBody(exchange.Usage.InputTokens, exchange.Usage.OutputTokens)));
            return;
        }

        var events = await exchange.StartStreamAsync("text/event-stream; charset=utf-8");

        Task Send(string type, JsonObject data, bool paced = false)
        {
            var payload = new JsonObject { ["type"] = type };
            foreach (var (field, node) in data)
            {
                payload[field] = node?.DeepClone();
            }

            return paced ? events.WriteEventChunkAsync(type, payload.ToJsonString()) : events.WriteEventAsync(type, payload.ToJsonString());
        }

        // message_start carries the input count and a token or so of output; message_delta carries the
        // cumulative totals, input included, so a parser that adds the two events double-counts input.
        await Send("message_start", new() { ["message"] = Message(id, model, [], null, UsageBody(exchange.Usage.InputTokens, 1)) });
        await Send("content_block_start", new() { ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" } });
        await Send("ping", []);
        foreach (var delta in exchange.Deltas)
        {
            await Send("content_block_delta", new() { ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = delta } }, paced: true);
        }

        await Send("content_block_stop", new() { ["index"] = 0 });
        await Send("message_delta", new()
        {
            ["delta"] = new JsonObject { ["stop_reason"] = "end_turn", ["stop_sequence"] = null },
            ["usage"] = new JsonObject
            {
                ["input_tokens"] = exchange.Usage.InputTokens,
                ["cache_creation_input_tokens"] = 0,
                ["cache_read_input_tokens"] = 0,
                ["output_tokens"] = exchange.Usage.OutputTokens,
            },
        });
        await Send("message_stop", []);
    }

    // The body is a messages body without max_tokens; the answer is the prompt's size alone, not usage.
    private static async Task CountTokensAsync(FakeExchange exchange)
    {
        if (exchange.ReadJsonObject() is not { } body)
        {
            await exchange.WriteJsonAsync(400, Error(exchange, "invalid_request_error", "There was an issue with your request body. Please check it is valid JSON."));
            return;
        }

        var missing = new[] { "model", "messages" }.FirstOrDefault(field => body[field] is null);
        if (missing is not null)
        {
            await exchange.WriteJsonAsync(400, Error(exchange, "invalid_request_error", $"{missing}: Field required"));
            return;
        }

        await exchange.WriteJsonAsync(200, new JsonObject { ["input_tokens"] = exchange.Usage.InputTokens });
    }

    private static JsonObject Message(string id, string model, JsonArray content, string? stopReason, JsonObject usage) => new()
    {
        ["id"] = id,
        ["type"] = "message",
        ["role"] = "assistant",
        ["model"] = model,
        ["content"] = content,
        ["stop_reason"] = stopReason,
        ["stop_sequence"] = null,
        ["usage"] = usage,
    };

    private static JsonObject UsageBody(int inputTokens, int outputTokens) => new()
    {
        ["input_tokens"] = inputTokens,
        ["cache_creation_input_tokens"] = 0,
        ["cache_read_input_tokens"] = 0,
        ["cache_creation"] = new JsonObject { ["ephemeral_5m_input_tokens"] = 0, ["ephemeral_1h_input_tokens"] = 0 },
        ["output_tokens"] = outputTokens,
        ["service_tier"] = "standard",
    };

    private static JsonObject ModelInfo(string id) => new()
    {
        ["type"] = "model",
        ["id"] = id,
        ["display_name"] = id,
        ["created_at"] = "2025-08-05T00:00:00Z",
    };

    private static JsonObject ModelList() => new()
    {
        ["data"] = new JsonArray(ModelIds.Select(id => (JsonNode?)ModelInfo(id)).ToArray()),
        ["has_more"] = false,
        ["first_id"] = ModelIds[0],
        ["last_id"] = ModelIds[^1],
    };
}
