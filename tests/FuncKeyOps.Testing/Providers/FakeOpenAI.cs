using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// api.openai.com: <c>POST /v1/chat/completions</c>, <c>POST /v1/responses</c>, <c>POST /v1/embeddings</c>,
/// <c>GET /v1/models</c>. Auth is <c>Authorization: Bearer &lt;key&gt;</c>. The requested model is echoed back.
/// The Admin API's project service accounts and keys are served by <see cref="Admin"/> (<see cref="FakeOpenAIAdmin"/>), its
/// organization usage API by <see cref="FakeOpenAIUsage"/> from what <see cref="FakeProvider.Billing"/> recorded.
/// </summary>
public sealed class FakeOpenAI : FakeProvider
{
    private static readonly OpenAIChatFormat Chat = new(azure: false);
    private static readonly string[] ModelIds = ["gpt-4o-mini", "gpt-4o", "gpt-4.1", "text-embedding-3-small"];

    private FakeOpenAI()
        : base("openai")
    {
        Admin = new FakeOpenAIAdmin(this);
    }

    /// <summary>The organization Admin API: admin keys, projects, service accounts and their keys.</summary>
    public FakeOpenAIAdmin Admin { get; }

    public static Task<FakeOpenAI> StartAsync(params string[] acceptedKeys) => StartFakeAsync(new FakeOpenAI(), acceptedKeys);

    /// <summary>The error body OpenAI uses everywhere: <c>{"error":{"message","type","param","code"}}</c>.</summary>
    internal static JsonObject Error(string message, string type, string? param = null, string? code = null) => new()
    {
        ["error"] = new JsonObject
        {
            ["message"] = message,
            ["type"] = type,
            ["param"] = param,
            ["code"] = code,
        },
    };

    internal static string? ReadBearer(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    private protected override string? ReadKey(HttpRequest request) => ReadBearer(request);

    // Admin calls authenticate with an admin key, not a model key, so they are answered before the model-key check.
    private protected override async Task<bool> RejectBeforeAuthAsync(FakeExchange exchange)
    {
        if (!FakeOpenAIAdmin.Serves(exchange.Request))
            return false;
        await Admin.ServeAsync(exchange);
        return true;
    }

    private protected override string? BilledKind(HttpRequest request) => (request.Method, request.Path.Value) switch
    {
        ("POST", "/v1/chat/completions" or "/v1/responses") => FakeBilledUsage.Completions,
        ("POST", "/v1/embeddings") => FakeBilledUsage.Embeddings,
        _ => null,
    };

    private protected override (int StatusCode, JsonNode Body) Unauthorized(FakeExchange exchange, bool keyMissing) => keyMissing
        ? (401, Error(
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
            "invalid_request_error"))
        // The real message quotes a masked key; this one quotes nothing so no part of a key can leak through a test.
        : (401, Error("Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", code: "invalid_api_key"));

    private protected override JsonNode RequestTooLargeBody(FakeExchange exchange) =>
        Error("Request too large for gpt-4o-mini in organization org-fake on tokens per min (TPM): Limit 30000, Requested 45000. The input or output tokens must be reduced in order to run successfully.", "tokens", code: "rate_limit_exceeded");

    private protected override JsonNode FailureBody(FakeExchange exchange, int statusCode) => statusCode switch
    {
        400 => Error("Invalid request.", "invalid_request_error"),
        401 => Unauthorized(exchange, keyMissing: false).Body,
        403 => Error("You are not allowed to sample from this model.", "invalid_request_error", code: "model_not_found"),
        404 => Error("The model does not exist or you do not have access to it.", "invalid_request_error", code: "model_not_found"),
        429 => Error("Rate limit reached for requests. Please try again later.", "requests", code: "rate_limit_exceeded"),
        503 => Error("The engine is currently overloaded, please try again later.", "server_error"),
        >= 500 => Error("The server had an error while processing your request. Sorry about that!", "server_error"),
        _ => Error($"Request failed with status {statusCode}.", "invalid_request_error"),
    };

    private protected override Task ServeAsync(FakeExchange exchange)
    {
        var request = exchange.Request;
        return (request.Method, request.Path.Value) switch
        {
            ("POST", "/v1/chat/completions") => ChatCompletionsAsync(exchange),
            ("POST", "/v1/responses") => ResponsesAsync(exchange),
            ("POST", "/v1/embeddings") => EmbeddingsAsync(exchange),
            ("GET", "/v1/models") => exchange.WriteJsonAsync(200, ModelList()),
            _ => exchange.WriteJsonAsync(404, Error($"Invalid URL ({request.Method} {request.Path.Value})", "invalid_request_error")),
        };
    }

    private static async Task ChatCompletionsAsync(FakeExchange exchange)
    {
        if (await ReadBodyAsync(exchange) is not { } body)
        {
            return;
        }

        var (model, stream, includeUsage) = OpenAIChatFormat.ReadChatRequest(body);
        if (model is null)
        {
            await exchange.WriteJsonAsync(400, Error("you must provide a model parameter", "invalid_request_error"));
            return;
        }

        if (body["messages"] is not JsonArray)
        {
            await exchange.WriteJsonAsync(400, Error("Missing required parameter: 'messages'.", "invalid_request_error", "messages", "missing_required_parameter"));
            return;
        }

        if (stream)
        {
            await Chat.StreamAsync(exchange, model, includeUsage);
        }
        else
        {
            await exchange.WriteJsonAsync(200, Chat.Completion(model, exchange.ReplyText, exchange.Usage));
        }
    }

    private static async Task EmbeddingsAsync(FakeExchange exchange)
    {
        if (await ReadBodyAsync(exchange) is not { } body)
        {
            return;
        }

        var (model, _, _) = OpenAIChatFormat.ReadChatRequest(body);
        if (model is null)
        {
            await exchange.WriteJsonAsync(400, Error("you must provide a model parameter", "invalid_request_error"));
            return;
        }

        if (body["input"] is null)
        {
            await exchange.WriteJsonAsync(400, Error("Missing required parameter: 'input'.", "invalid_request_error", "input", "missing_required_parameter"));
            return;
        }

        await exchange.WriteJsonAsync(200, OpenAIChatFormat.Embeddings(model, body, exchange.Usage));
    }

    private static async Task ResponsesAsync(FakeExchange exchange)
    {
        if (await ReadBodyAsync(exchange) is not { } body)
        {
            return;
        }

        var (model, stream, _) = OpenAIChatFormat.ReadChatRequest(body);
        if (model is null)
        {
            await exchange.WriteJsonAsync(400, Error("Missing required parameter: 'model'.", "invalid_request_error", "model", "missing_required_parameter"));
            return;
        }

        var response = new ResponsesFormat(model, exchange);
        if (stream)
        {
            await response.StreamAsync();
        }
        else
        {
            await exchange.WriteJsonAsync(200, response.Completed());
        }
    }

    /// <summary>The body as a JSON object, or null after answering 400 the way OpenAI does for unparseable JSON.</summary>
    private static async Task<JsonObject?> ReadBodyAsync(FakeExchange exchange)
    {
        if (exchange.ReadJsonObject() is { } body)
        {
            return body;
        }

        await exchange.WriteJsonAsync(400, Error(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
            "invalid_request_error"));
        return null;
    }

    private static JsonObject ModelList() => new()
    {
        ["object"] = "list",
        ["data"] = new JsonArray(ModelIds.Select(id => (JsonNode?)new JsonObject
        {
            ["id"] = id,
            ["object"] = "model",
            ["created"] = 1715367049,
            ["owned_by"] = "system",
        }).ToArray()),
    };
}
