using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Providers;

/// <summary>
/// {resource}.openai.azure.com. The Azure SDKs send the key as <c>api-key</c>; the OpenAI SDKs pointed at the
/// v1 API (<c>openai/v1/</c>) send <c>Authorization: Bearer</c>. Two path styles: <c>openai/deployments/{deployment}/...
/// ?api-version=</c>, where the deployment is the model, and <c>openai/v1/...</c>, with <c>model</c> in the body.
/// </summary>
public sealed class AzureOpenAIAdapter : IProviderAdapter
{
    private static readonly DateOnly FirstVersionWithStreamOptions = new(2024, 8, 1);

    public string Name => ProviderNames.AzureOpenAI;

    public string ValidationPath => "openai/models?api-version=2024-10-21";

    public string? ReadClientKey(HttpRequest request) =>
        ClientCredentials.ReadHeader(request, "api-key") ?? ClientCredentials.ReadBearer(request);

    public bool IsCredentialHeader(string headerName) => ClientCredentials.IsHeader(headerName);

    public bool IsCredentialQueryParameter(string name) => ClientCredentials.IsQueryParameter(name);

    public void ApplyProviderKey(HttpRequestMessage upstream, string providerKey)
    {
        upstream.Headers.Remove("api-key");
        upstream.Headers.TryAddWithoutValidation("api-key", providerKey);
    }

    /// <summary>Without the query the api-version is unknown, so a deployment path's stream is not asked for usage.</summary>
    public RequestPlan PlanRequest(string method, string path, ReadOnlyMemory<byte> body) => PlanRequest(method, path, null, body);

    public RequestPlan PlanRequest(string method, string path, string? query, ReadOnlyMemory<byte> body)
    {
        var deployment = Deployment(path);
        // The v1 API has no api-version and takes stream_options; a deployment path takes it from 2024-08-01-preview.
        var acceptsStreamOptions = deployment is null || AcceptsStreamOptions(query);
        return OpenAIRequests.Plan(path, body, acceptsStreamOptions, deployment is null ? Scope(method, path) : ModelScope.Named, deployment);
    }

    // The deployment path's deployment is the model (checked like a body model); the v1 API and the older
    // openai/{operation} paths (openai/models, openai/files, ...) follow OpenAI's rules for the path under them.
    private static ModelScope Scope(string method, string path) =>
        OpenAIRequests.Scope(method, ApiPaths.Under(path, "openai/v1/") ?? ApiPaths.Under(path, "openai/"));

    public IUsageReader CreateUsageReader(RequestPlan plan) => new OpenAIUsageReader(plan.StripUsageOnlyChunk);

    /// <summary>Azure's <c>{"error":{"code","message"}}</c>: its codes are strings, which the relay's code fits.</summary>
    public byte[] FormatError(int status, string code, string message) => ErrorJson.Write((code, message), static (writer, error) =>
    {
        writer.WriteStartObject();
        writer.WriteStartObject("error");
        writer.WriteString("code", error.code);
        writer.WriteString("message", error.message);
        writer.WriteEndObject();
        writer.WriteEndObject();
    });

    /// <summary>The deployment of an <c>openai/deployments/{deployment}/...</c> path; null for other paths.</summary>
    internal static string? Deployment(string path)
    {
        const string prefix = "openai/deployments/";
        var rest = path.AsSpan().TrimStart('/');
        if (!rest.StartsWith(prefix, StringComparison.Ordinal))
            return null;
        rest = rest[prefix.Length..];
        var slash = rest.IndexOf('/');
        var deployment = slash < 0 ? rest : rest[..slash];
        return deployment.IsEmpty ? null : new string(deployment);
    }

    /// <summary>
    /// Whether the query's api-version accepts <c>stream_options</c>: dated versions from 2024-08-01(-preview) on
    /// (older ones answer 400 "Unrecognized request argument supplied: stream_options"), and the undated
    /// <c>preview</c> / <c>latest</c> / <c>v1</c> of the v1 API. Unknown or missing: no.
    /// </summary>
    internal static bool AcceptsStreamOptions(string? query)
    {
        if (ApiVersion(query) is not { } version)
            return false;
        if (version is "preview" or "latest" or "v1")
            return true;
        return version.Length >= 10
            && DateOnly.TryParseExact(version[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            && date >= FirstVersionWithStreamOptions;
    }

    private static string? ApiVersion(string? query)
    {
        var rest = query.AsSpan().TrimStart('?');
        string? found = null;
        while (!rest.IsEmpty)
        {
            var amp = rest.IndexOf('&');
            var pair = amp < 0 ? rest : rest[..amp];
            rest = amp < 0 ? default : rest[(amp + 1)..];
            if (!pair.StartsWith("api-version=", StringComparison.Ordinal))
                continue;
            // A repeated api-version is ambiguous: treat it as unknown.
            if (found is not null)
                return null;
            found = Uri.UnescapeDataString(pair["api-version=".Length..]);
        }
        return found;
    }
}
