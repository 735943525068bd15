using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace FuncKeyOps.Rotation.Connectors.Gemini;

/// <summary>
/// The calls of Google's API Keys API v2 the gemini connector makes (facts in <see cref="GeminiKeyConnector"/>), over the
/// resilient named HttpClient. A refusal becomes a <see cref="ProviderCallException"/> with the status and Google's
/// <c>error.status</c> word; bodies are never quoted.
/// </summary>
internal sealed class GoogleApiKeysClient(HttpClient http, Uri endpoint, string accessToken, TimeProvider time)
{
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan PollBudget = TimeSpan.FromSeconds(60);

    /// <summary>The created key's resource name, or null when <paramref name="keyId"/> exists already (409 ALREADY_EXISTS).</summary>
    public async Task<string?> CreateAsync(string projectId, string keyId, JsonObject key, CancellationToken ct)
    {
        var path = $"v2/projects/{Uri.EscapeDataString(projectId)}/locations/global/keys?keyId={Uri.EscapeDataString(keyId)}";
        using var response = await SendAsync(HttpMethod.Post, path, key, ct);
        if ((int)response.StatusCode == 409)
        {
            return null;
        }

        var operation = await ReadAsync(response, "create key", ct);
        var done = await WaitAsync(operation, "create key", ct);
        return done["response"]?["name"]?.GetValue<string>()
            ?? throw new ProviderCallException(GeminiKeyConnector.ConnectorName, "create key", 200, "NO_KEY_IN_OPERATION");
    }

    /// <summary>The key's metadata (name, deleteTime); null when it does not exist.</summary>
    public async Task<JsonObject?> GetAsync(string name, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Get, "v2/" + name, null, ct);
        return (int)response.StatusCode == 404 ? null : await ReadAsync(response, "get key", ct);
    }

    public async Task<string> GetKeyStringAsync(string name, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Get, $"v2/{name}/keyString", null, ct);
        var body = await ReadAsync(response, "get keyString", ct);
        return body["keyString"]?.GetValue<string>() is { Length: > 0 } value
            ? value
            : throw new ProviderCallException(GeminiKeyConnector.ConnectorName, "get keyString", 200, "NO_KEY_STRING");
    }

    /// <summary>False when the key is not there (404): already deleted.</summary>
    public async Task<bool> DeleteAsync(string name, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Delete, "v2/" + name, null, ct);
        if ((int)response.StatusCode == 404)
        {
            return false;
        }

        await WaitAsync(await ReadAsync(response, "delete key", ct), "delete key", ct);
        return true;
    }

    // Google answers create and delete with a long-running operation; it is polled until done, with a growing pause.
    private async Task<JsonObject> WaitAsync(JsonObject operation, string what, CancellationToken ct)
    {
        var pause = FirstPoll;
        var deadline = time.GetUtcNow() + PollBudget;
        while (operation["done"]?.GetValue<bool>() != true)
        {
            if (time.GetUtcNow() >= deadline)
            {
                throw new ProviderCallException(GeminiKeyConnector.ConnectorName, what + " (operation still running)", 0);
            }

            await Task.Delay(pause, time, ct);
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, MaxPoll.Ticks));
            var name = operation["name"]?.GetValue<string>()
                ?? throw new ProviderCallException(GeminiKeyConnector.ConnectorName, what, 200, "OPERATION_WITHOUT_NAME");
            using var response = await SendAsync(HttpMethod.Get, "v2/" + name, null, ct);
            operation = await ReadAsync(response, what + " (operation)", ct);
        }

        if (operation["error"] is JsonObject error)
        {
            throw new ProviderCallException(GeminiKeyConnector.ConnectorName, what, 200, "OPERATION_FAILED " + error["code"]);
        }

        return operation;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, JsonObject? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(endpoint, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        try
        {
            return await http.SendAsync(request, ct);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException or Polly.Timeout.TimeoutRejectedException
                                  || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            throw new ProviderCallException(GeminiKeyConnector.ConnectorName, $"{method} {TrimQuery(path)}", 0);
        }
    }

    private static async Task<JsonObject> ReadAsync(HttpResponseMessage response, string what, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        JsonObject? body = null;
        try
        {
            body = await response.Content.ReadFromJsonAsync<JsonObject>(ct);
        }
        catch (System.Text.Json.JsonException)
        {
        }

        if (response.IsSuccessStatusCode && body is not null)
        {
            return body;
        }

        var code = body?["error"]?["status"] is JsonValue value && value.TryGetValue(out string? word) ? word : null;
        throw new ProviderCallException(GeminiKeyConnector.ConnectorName, what, status, code);
    }

    private static string TrimQuery(string path) => path.Split('?')[0];
}
