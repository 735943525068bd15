using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;

namespace FuncKeyOps.Rotation.Connectors.AzureOpenAI;

/// <summary>
/// <c>listKeys</c> and <c>regenerateKey</c> of one Cognitive Services account over an Azure.Core pipeline: the library's
/// <see cref="TokenCredential"/> through <see cref="BearerTokenAuthenticationPolicy"/> (scope management.azure.com), Azure.Core's
/// retry policy (429, 5xx, timeouts), the transport an HttpClient from the factory.
/// </summary>
internal sealed class ArmAccountKeysClient(HttpPipeline pipeline, AzureOpenAISettings settings)
{
    /// <summary>A Cognitive Services management api-version that has both calls (GA).</summary>
    public const string ApiVersion = "2024-10-01";

    public const string Scope = "https://management.azure.com/.default";

    public static HttpPipeline CreatePipeline(TokenCredential credential, HttpClient transport)
    {
        var options = new ArmOptions { Transport = new HttpClientTransport(transport) };
        // Fail fast: the rotation step is retried as a whole by its driver, so long in-call retries only hold a worker.
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(2);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        return HttpPipelineBuilder.Build(options, new BearerTokenAuthenticationPolicy(credential, Scope));
    }

    public Task<AccountKeys> ListAsync(CancellationToken ct) => SendAsync("listKeys", null, ct);

    /// <summary>Regenerates <paramref name="slot"/> (<c>key1</c>/<c>key2</c>); the answer holds both slots' values after it.</summary>
    public Task<AccountKeys> RegenerateAsync(string slot, CancellationToken ct) =>
        SendAsync("regenerateKey", slot == AccountKeys.Key1 ? "Key1" : "Key2", ct);

    private async Task<AccountKeys> SendAsync(string action, string? keyName, CancellationToken ct)
    {
        using var message = pipeline.CreateMessage();
        message.Request.Method = RequestMethod.Post;
        message.Request.Uri.Reset(new Uri(settings.ArmEndpoint, $"{settings.ResourceId.TrimStart('/')}/{action}?api-version={ApiVersion}"));
        message.Request.Headers.Add("Content-Type", "application/json");
        message.Request.Content = keyName is null
            ? RequestContent.Create("{}"u8.ToArray())
            : RequestContent.Create(BinaryData.FromObjectAsJson(new { keyName }));
        try
        {
            await pipeline.SendAsync(message, ct);
        }
        catch (Exception e) when (e is RequestFailedException or AuthenticationFailedException
                                  || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            throw Refusal(action, e);
        }

        var response = message.Response;
        if (response.Status is < 200 or >= 300)
        {
            throw new ProviderCallException(AzureOpenAIKeyConnector.ConnectorName, action, response.Status, ErrorCode(response));
        }

        using var body = JsonDocument.Parse(response.Content.ToMemory());
        return new AccountKeys(ReadString(body.RootElement, "key1"), ReadString(body.RootElement, "key2"));
    }

    // A credential that cannot get a token is the operator's to fix; a network fault or a timeout is not.
    private static ProviderCallException Refusal(string action, Exception e) => e switch
    {
        AuthenticationFailedException => new(AzureOpenAIKeyConnector.ConnectorName, action + " (getting an ARM token)", 401, "CredentialFailed"),
        RequestFailedException { Status: > 0 } failed => new(AzureOpenAIKeyConnector.ConnectorName, action, failed.Status, failed.ErrorCode),
        _ => new(AzureOpenAIKeyConnector.ConnectorName, action, 0),
    };

    private static string? ErrorCode(Response response)
    {
        try
        {
            using var body = JsonDocument.Parse(response.Content.ToMemory());
            return body.RootElement.TryGetProperty("error", out var error) && error.TryGetProperty("code", out var code) ? code.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? ReadString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private sealed class ArmOptions : ClientOptions;
}

/// <summary>The two slots' values. <see cref="ToString"/> never shows them.</summary>
internal sealed record AccountKeys(string? Value1, string? Value2)
{
    public const string Key1 = "key1";
    public const string Key2 = "key2";

    public static readonly IReadOnlyList<string> Slots = [Key1, Key2];

    public string? this[string slot] => slot == Key1 ? Value1 : Value2;

    public override string ToString() => "account keys (values hidden)";
}
