using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// {resource}.openai.azure.com: <c>POST /openai/deployments/{deployment}/chat/completions</c> and
/// <c>/embeddings</c>, <c>GET /openai/models</c>, all with <c>?api-version=</c>.
/// Auth is <c>api-key</c>, or <c>Authorization: Bearer</c>. Responses name the deployment's model,
/// whatever <c>model</c> the request body says. Registered with <see cref="FakeArm.AddAccount"/>, it accepts the account's
/// two slot values, and a regenerated slot's old value stops working at once.
/// </summary>
/// <remarks>
/// As on Azure, a request without api-version is a 404 "Resource not found" before the key is looked at,
/// and an unknown deployment is a 404 DeploymentNotFound.
/// </remarks>
public sealed partial class FakeAzureOpenAI : FakeProvider
{
    private static readonly OpenAIChatFormat Chat = new(azure: true);

    private readonly ConcurrentDictionary<string, string> _deployments = new(StringComparer.Ordinal)
    {
        ["gpt-4o-mini"] = "gpt-4o-mini-2024-07-18",
        ["text-embedding-3-small"] = "text-embedding-3-small",
    };

    private FakeAzureOpenAI()
        : base("azure-openai")
    {
    }

    /// <summary>Deployment name to model name; starts with <c>gpt-4o-mini</c> and <c>text-embedding-3-small</c>.</summary>
    public IReadOnlyDictionary<string, string> Deployments => _deployments;

    public static Task<FakeAzureOpenAI> StartAsync(params string[] acceptedKeys) => StartFakeAsync(new FakeAzureOpenAI(), acceptedKeys);

    public void AddDeployment(string deployment, string model)
    {
        ArgumentException.ThrowIfNullOrEmpty(deployment);
        ArgumentException.ThrowIfNullOrEmpty(model);
        _deployments[deployment] = model;
    }

    /// <summary><c>{"error":{"code","message"}}</c>; Azure's codes are strings, often the status number.</summary>
    internal static JsonObject Error(string code, string message) => new()
    {
        ["error"] = new JsonObject { ["code"] = code, ["message"] = message },
    };

    private protected override string NewRequestId() => Guid.NewGuid().ToString();

    private protected override void AddResponseHeaders(HttpResponse response, string requestId)
    {
        response.Headers["apim-request-id"] = requestId;
        response.Headers["x-request-id"] = requestId;
        response.Headers["x-ms-region"] = "Sweden Central";
    }

    // Azure sends the millisecond form too, and some clients prefer it.
    private protected override void AddRetryAfter(HttpResponse response, TimeSpan retryAfter)
    {
        base.AddRetryAfter(response, retryAfter);
        response.Headers["retry-after-ms"] = ((long)Math.Ceiling(retryAfter.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
    }

    private protected override JsonNode RequestTooLargeBody(FakeExchange exchange) =>
        Error("429", "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded the token rate limit of your current OpenAI S0 pricing tier: this request alone asks for more tokens than the per-minute limit. Reduce the size of the request.");

    private protected override string? ReadKey(HttpRequest request)
    {
        var apiKey = request.Headers["api-key"].ToString();
        return apiKey.Length > 0 ? apiKey : FakeOpenAI.ReadBearer(request);
    }

    private protected override (int StatusCode, JsonNode Body) Unauthorized(FakeExchange exchange, bool keyMissing) => keyMissing
        ? (401, Error("401", "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."))
        : (401, Error("401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."));

    private protected override JsonNode FailureBody(FakeExchange exchange, int statusCode) => statusCode switch
    {
        400 => Error("BadRequest", "Invalid request."),
        401 => Unauthorized(exchange, keyMissing: false).Body,
        403 => Error("403", "Access denied due to Virtual Network/Firewall rules."),
        404 => Error("404", "Resource not found"),
        429 => Error("429", "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after the time given in the Retry-After header. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."),
        503 => Error("ServiceUnavailable", "The service is temporarily unable to process your request. Please try again later."),
        >= 500 => Error("InternalServerError", "The server had an error while processing your request. Sorry about that!"),
        _ => Error(statusCode.ToString(CultureInfo.InvariantCulture), $"Request failed with status {statusCode}."),
    };

    private protected override async Task<bool> RejectBeforeAuthAsync(FakeExchange exchange)
    {
        var apiVersion = exchange.Request.Query["api-version"].ToString();
        if (apiVersion.Length == 0)
        {
            await exchange.WriteJsonAsync(404, Error("404", "Resource not found"));
            return true;
        }

        if (!ApiVersionFormat().IsMatch(apiVersion))
        {
            await exchange.WriteJsonAsync(400, Error("BadRequest", "API version not supported"));
            return true;
        }

        return false;
    }

    private protected override Task ServeAsync(FakeExchange exchange)
    {
        var request = exchange.Request;
        var path = request.Path.Value ?? "";
        if (request.Method == "GET" && path == "/openai/models")
        {
            return exchange.WriteJsonAsync(200, ModelList());
        }

        var call = DeploymentCallPath().Match(path);
        if (request.Method != "POST" || !call.Success)
        {
            return exchange.WriteJsonAsync(404, Error("404", "Resource not found"));
        }

        if (!_deployments.TryGetValue(call.Groups["deployment"].Value, out var model))
        {
            return exchange.WriteJsonAsync(404, Error("DeploymentNotFound",
                "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."));
        }

        return call.Groups["operation"].Value == "chat/completions"
            ? ChatCompletionsAsync(exchange, model)
            : EmbeddingsAsync(exchange, model);
    }

    private static async Task ChatCompletionsAsync(FakeExchange exchange, string model)
    {
        if (exchange.ReadJsonObject() is not { } body)
        {
            await exchange.WriteJsonAsync(400, FakeOpenAI.Error("We could not parse the JSON body of your request.", "invalid_request_error"));
            return;
        }

        if (body["messages"] is not JsonArray)
        {
            await exchange.WriteJsonAsync(400, FakeOpenAI.Error("Missing required parameter: 'messages'.", "invalid_request_error", "messages", "missing_required_parameter"));
            return;
        }

        var (_, stream, includeUsage) = OpenAIChatFormat.ReadChatRequest(body);
        if (stream)
        {
            await Chat.StreamAsync(exchange, model, includeUsage);
        }
        else
        {
            await exchange.WriteJsonAsync(200, Chat.Completion(model, exchange.ReplyText, exchange.Usage));
        }
    }

    private static async Task EmbeddingsAsync(FakeExchange exchange, string model)
    {
        if (exchange.ReadJsonObject() is not { } body || body["input"] is null)
        {
            await exchange.WriteJsonAsync(400, FakeOpenAI.Error("Missing required parameter: 'input'.", "invalid_request_error", "input", "missing_required_parameter"));
            return;
        }

        await exchange.WriteJsonAsync(200, OpenAIChatFormat.Embeddings(model, body, exchange.Usage));
    }

    private JsonObject ModelList() => new()
    {
        ["object"] = "list",
        ["data"] = new JsonArray(_deployments.Values.Distinct().Order(StringComparer.Ordinal).Select(id => (JsonNode?)new JsonObject
        {
            ["id"] = id,
            ["object"] = "model",
            ["status"] = "succeeded",
            ["created_at"] = 1721347200,
            ["lifecycle_status"] = "generally-available",
            ["capabilities"] = new JsonObject
            {
                ["chat_completion"] = !id.StartsWith("text-embedding", StringComparison.Ordinal),
                ["embeddings"] = id.StartsWith("text-embedding", StringComparison.Ordinal),
                ["completion"] = false,
                ["fine_tune"] = false,
                ["inference"] = true,
            },
        }).ToArray()),
    };

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}(-preview)?$")]
    private static partial Regex ApiVersionFormat();

    [GeneratedRegex("^/openai/deployments/(?<deployment>[^/]+)/(?<operation>chat/completions|embeddings)$")]
    private static partial Regex DeploymentCallPath();
}
