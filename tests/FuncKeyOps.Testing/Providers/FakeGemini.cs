using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// generativelanguage.googleapis.com: <c>POST /v1beta/models/{model}:generateContent</c>,
/// <c>:streamGenerateContent</c> (SSE with <c>?alt=sse</c>, otherwise a streamed JSON array),
/// <c>:embedContent</c>, <c>:batchEmbedContents</c>, <c>:countTokens</c>, and <c>GET /v1beta/models</c>. <c>/v1/</c> works the same.
/// Auth is <c>x-goog-api-key</c> or <c>?key=</c>. Keys created through <see cref="FakeGoogleApiKeys"/> work until deleted there.
/// </summary>
/// <remarks>
/// Google answers a wrong or deleted key with 400 INVALID_ARGUMENT (reason API_KEY_INVALID), not 401,
/// and a missing key with 403 PERMISSION_DENIED; the fake does the same. The real 400 also carries a
/// DebugInfo detail that quotes the key; that detail is left out here.
/// SSE events end in CRLF CRLF, as Google's do.
/// </remarks>
public sealed partial class FakeGemini : FakeProvider
{
    private static readonly string[] ModelIds = ["gemini-2.0-flash", "gemini-2.5-flash", "gemini-2.5-pro", "text-embedding-004"];

    // Google sends no rate-limit headers: a 429 (RESOURCE_EXHAUSTED) is always the project's quota.
    private protected override void AddRateLimitHeaders(HttpResponse response, bool spent)
    {
    }

    private FakeGemini()
        : base("gemini")
    {
    }

    public static Task<FakeGemini> StartAsync(params string[] acceptedKeys) => StartFakeAsync(new FakeGemini(), acceptedKeys);

    /// <summary><c>{"error":{"code","message","status"[,"details"]}}</c>.</summary>
    internal static JsonObject Error(int code, string status, string message, JsonArray? details = null)
    {
        var error = new JsonObject { ["code"] = code, ["message"] = message, ["status"] = status };
        if (details is not null)
        {
            error["details"] = details;
        }

        return new JsonObject { ["error"] = error };
    }

    // Gemini has no request-id header; the id is returned as responseId in the body instead.
    private protected override void AddResponseHeaders(HttpResponse response, string requestId)
    {
    }

    private protected override string NewRequestId() => FakeIds.Alnum(22);

    private protected override string? ReadKey(HttpRequest request)
    {
        var header = request.Headers["x-goog-api-key"].ToString();
        return header.Length > 0 ? header : request.Query["key"].ToString();
    }

    private protected override (int StatusCode, JsonNode Body) Unauthorized(FakeExchange exchange, bool keyMissing)
    {
        if (keyMissing)
        {
            return (403, Error(403, "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."));
        }

        const string message = "API key not valid. Please pass a valid API key.";
        JsonArray details =
        [
            new JsonObject
            {
                ["@type"] = "type.googleapis.com/google.rpc.ErrorInfo",
                ["reason"] = "API_KEY_INVALID",
                ["domain"] = "googleapis.com",
                ["metadata"] = new JsonObject { ["service"] = "generativelanguage.googleapis.com" },
            },
            new JsonObject { ["@type"] = "type.googleapis.com/google.rpc.LocalizedMessage", ["locale"] = "en-US", ["message"] = message },
        ];
        return (400, Error(400, "INVALID_ARGUMENT", message, details));
    }

    private protected override JsonNode FailureBody(FakeExchange exchange, int statusCode) => statusCode switch
    {
        400 => Error(400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
        401 => Error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."),
        403 => Error(403, "PERMISSION_DENIED", "The caller does not have permission."),
        404 => Error(404, "NOT_FOUND", "Requested entity was not found."),
        429 => Error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
        503 => Error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
        504 => Error(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
        >= 500 => Error(statusCode, "INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"),
        _ => Error(statusCode, "FAILED_PRECONDITION", $"Request failed with status {statusCode}."),
    };

    private protected override Task ServeAsync(FakeExchange exchange)
    {
        var request = exchange.Request;
        var path = request.Path.Value ?? "";
        if (request.Method == "GET" && ModelListPath().IsMatch(path))
        {
            return exchange.WriteJsonAsync(200, ModelList());
        }

        var call = ModelCallPath().Match(path);
        if (request.Method == "POST" && call.Success)
        {
            var model = call.Groups["model"].Value;
            return call.Groups["method"].Value switch
            {
                "generateContent" => GenerateAsync(exchange, model, streaming: false),
                "streamGenerateContent" => GenerateAsync(exchange, model, streaming: true),
                "embedContent" => EmbedAsync(exchange),
                "batchEmbedContents" => BatchEmbedAsync(exchange, model),
                "countTokens" => exchange.WriteJsonAsync(200, new JsonObject { ["totalTokens"] = exchange.Usage.InputTokens }),
                _ => NotFoundAsync(exchange, path),
            };
        }

        return NotFoundAsync(exchange, path);
    }

    private static Task NotFoundAsync(FakeExchange exchange, string path) =>
        exchange.WriteJsonAsync(404, Error(404, "NOT_FOUND", $"{path.TrimStart('/')} is not found, or is not supported. Call ListModels to see the list of available models and their supported methods."));

    private static async Task GenerateAsync(FakeExchange exchange, string model, bool streaming)
    {
        if (exchange.ReadJsonObject() is not { } body)
        {
            await exchange.WriteJsonAsync(400, Error(400, "INVALID_ARGUMENT", "Invalid JSON payload received."));
            return;
        }

        if (body["contents"] is not JsonArray)
        {
            await exchange.WriteJsonAsync(400, Error(400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified\n"));
            return;
        }

        var usage = exchange.Usage;
        var responseId = exchange.Recorded.RequestId;
        if (!streaming)
        {
            await exchange.WriteJsonAsync(200, Chunk(exchange.ReplyText, finished: true, usage.OutputTokens, usage, model, responseId));
            return;
        }

        // Every chunk carries usageMetadata with the output count so far; the last one is the call's total.
        var deltas = exchange.Deltas;
        JsonObject ChunkAt(int index) =>
            Chunk(deltas[index], index == deltas.Count - 1, usage.OutputTokens * (index + 1) / deltas.Count, usage, model, responseId);

        if (exchange.Request.Query["alt"] == "sse")
        {
            var events = await exchange.StartStreamAsync("text/event-stream", newline: "\r\n");
            for (var i = 0; i < deltas.Count; i++)
            {
                await events.WriteEventChunkAsync(null, ChunkAt(i).ToJsonString());
            }

            return;
        }

        // Without alt=sse Google streams one JSON array, element by element.
        var array = await exchange.StartStreamAsync("application/json; charset=UTF-8");
        for (var i = 0; i < deltas.Count; i++)
        {
            await array.WriteChunkAsync((i == 0 ? "[" : ",\r\n") + ChunkAt(i).ToJsonString());
        }

        await array.WriteAsync("]");
    }

    private static async Task EmbedAsync(FakeExchange exchange)
    {
        if (exchange.ReadJsonObject()?["content"] is null)
        {
            await exchange.WriteJsonAsync(400, Error(400, "INVALID_ARGUMENT", "* EmbedContentRequest.content: content is not specified\n"));
            return;
        }

        await exchange.WriteJsonAsync(200, new JsonObject { ["embedding"] = Embedding(0) });
    }

    // Google requires each request to name the model of the path ("models/{model}"); the answer has one
    // embedding per request, in request order.
    private static async Task BatchEmbedAsync(FakeExchange exchange, string model)
    {
        if (exchange.ReadJsonObject()?["requests"] is not JsonArray { Count: > 0 } requests)
        {
            await exchange.WriteJsonAsync(400, Error(400, "INVALID_ARGUMENT", "* BatchEmbedContentsRequest.requests: requests is not specified\n"));
            return;
        }

        for (var i = 0; i < requests.Count; i++)
        {
            var named = requests[i]?["model"] is JsonValue value && value.TryGetValue(out string? name) ? name : null;
            if (named != "models/" + model || requests[i]?["content"] is null)
            {
                await exchange.WriteJsonAsync(400, Error(400, "INVALID_ARGUMENT",
                    $"* BatchEmbedContentsRequest.requests[{i}]: needs content and the model of the request URL, models/{model}\n"));
                return;
            }
        }

        var embeddings = new JsonArray(Enumerable.Range(0, requests.Count).Select(i => (JsonNode?)Embedding(i)).ToArray());
        await exchange.WriteJsonAsync(200, new JsonObject { ["embeddings"] = embeddings });
    }

    /// <summary><c>{"values":[...]}</c>, 8 floats that differ by <paramref name="index"/>.</summary>
    private static JsonObject Embedding(int index) => new()
    {
        ["values"] = new JsonArray(Enumerable.Range(0, 8).Select(j => (JsonNode?)(0.01f * (index + 1) + j * 0.001f)).ToArray()),
    };

    private static JsonObject Chunk(string text, bool finished, int outputSoFar, FakeUsage usage, string model, string responseId)
    {
        var candidate = new JsonObject
        {
            ["content"] = new JsonObject
            {
                ["parts"] = new JsonArray(new JsonObject { ["text"] = text }),
                ["role"] = "model",
            },
            ["index"] = 0,
        };
        if (finished)
        {
            candidate["finishReason"] = "STOP";
        }

        return new JsonObject
        {
            ["candidates"] = new JsonArray(candidate),
            ["usageMetadata"] = new JsonObject
            {
                ["promptTokenCount"] = usage.InputTokens,
                ["candidatesTokenCount"] = outputSoFar,
                ["totalTokenCount"] = usage.InputTokens + outputSoFar,
                ["promptTokensDetails"] = new JsonArray(new JsonObject { ["modality"] = "TEXT", ["tokenCount"] = usage.InputTokens }),
            },
            ["modelVersion"] = model,
            ["responseId"] = responseId,
        };
    }

    private static JsonObject ModelList() => new()
    {
        ["models"] = new JsonArray(ModelIds.Select(id => (JsonNode?)new JsonObject
        {
            ["name"] = "models/" + id,
            ["version"] = "001",
            ["displayName"] = id,
            ["inputTokenLimit"] = 1048576,
            ["outputTokenLimit"] = 8192,
            ["supportedGenerationMethods"] = id.StartsWith("text-embedding", StringComparison.Ordinal)
                ? new JsonArray("embedContent", "batchEmbedContents")
                : new JsonArray("generateContent", "countTokens"),
        }).ToArray()),
    };

    [GeneratedRegex("^/v1(beta)?/models/?$")]
    private static partial Regex ModelListPath();

    [GeneratedRegex("^/v1(beta)?/models/(?<model>[^/:]+):(?<method>[A-Za-z]+)$")]
    private static partial Regex ModelCallPath();
}
