namespace FuncKeyOps.ProviderKeys;

/// <summary>
/// Where a platform provider key may send its value or a connector its credential: each provider's own hosts, over
/// https. A registration names these URLs (<c>baseUrl</c>, and in <c>connectorSettings</c> <c>adminBaseUrl</c>,
/// <c>armEndpoint</c>, <c>apiKeysEndpoint</c>), and the value, a tenant's key routed the same way, or the admin
/// credential goes to whatever host they name; an admin key in the wrong hands would otherwise read every secret out
/// through a host of its choosing. Other hosts only by the operator's <see cref="ProviderKeyOptions.AllowedEndpointHosts"/>;
/// loopback in Development, where the local fakes and mock providers run.
/// </summary>
internal static class ProviderKeyEndpoints
{
    public const string AdminBaseUrlSetting = "adminBaseUrl";
    public const string ArmEndpointSetting = "armEndpoint";
    public const string ApiKeysEndpointSetting = "apiKeysEndpoint";

    // Sovereign clouds included: an Azure account or ARM endpoint there is as much the provider's.
    private static readonly string[] AzureOpenAIHosts =
    [
        "*.openai.azure.com", "*.cognitiveservices.azure.com", "*.services.ai.azure.com",
        "*.openai.azure.us", "*.cognitiveservices.azure.us", "*.openai.azure.cn", "*.cognitiveservices.azure.cn",
    ];

    private static readonly Dictionary<string, string[]> ProviderHosts = new(StringComparer.Ordinal)
    {
        [Providers.ProviderNames.OpenAI] = ["api.openai.com", "*.api.openai.com"],
        [Providers.ProviderNames.Anthropic] = ["api.anthropic.com"],
        [Providers.ProviderNames.Gemini] = ["generativelanguage.googleapis.com"],
        [Providers.ProviderNames.AzureOpenAI] = AzureOpenAIHosts,
    };

    private static readonly string[] ArmHosts = ["management.azure.com", "management.usgovcloudapi.net", "management.chinacloudapi.cn"];
    private static readonly string[] ApiKeysHosts = ["apikeys.googleapis.com"];

    /// <summary>Why the registration's endpoints are refused, or null when every one is allowed.</summary>
    public static string? Check(string provider, Uri baseUrl, IReadOnlyDictionary<string, string>? connectorSettings,
        IReadOnlyList<string> allowedHosts, bool isDevelopment)
    {
        var known = ProviderHosts.GetValueOrDefault(provider) ?? [];
        var endpoints = new List<(string Field, string? Text, string[] Known)> { ("baseUrl", baseUrl.AbsoluteUri, known) };
        if (connectorSettings is not null)
        {
            endpoints.Add((AdminBaseUrlSetting, connectorSettings.GetValueOrDefault(AdminBaseUrlSetting), known));
            endpoints.Add((ArmEndpointSetting, connectorSettings.GetValueOrDefault(ArmEndpointSetting), ArmHosts));
            endpoints.Add((ApiKeysEndpointSetting, connectorSettings.GetValueOrDefault(ApiKeysEndpointSetting), ApiKeysHosts));
        }
        foreach (var (field, text, hosts) in endpoints)
        {
            if (text is null)
                continue;
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || !string.IsNullOrEmpty(uri.UserInfo))
                return $"'{field}' must be an absolute http(s) URL without credentials.";
            if (!Allows(uri, hosts, allowedHosts, isDevelopment))
                return $"'{field}' must be on one of {provider}'s hosts over https ({string.Join(", ", hosts)}); "
                    + $"other hosts need the operator's setting {ProviderKeyOptions.Section}:{nameof(ProviderKeyOptions.AllowedEndpointHosts)}"
                    + (isDevelopment ? ", loopback is allowed in Development." : ".");
        }
        return null;
    }

    private static bool Allows(Uri uri, string[] known, IReadOnlyList<string> allowedHosts, bool isDevelopment)
    {
        if (isDevelopment && uri.IsLoopback)
            return true;
        var host = uri.IdnHost;
        if (allowedHosts.Any(pattern => Matches(host, pattern.Trim())))
            return true;
        return uri.Scheme == "https" && known.Any(pattern => Matches(host, pattern));
    }

    // "api.openai.com" is that host; "*.openai.azure.com" any host below it (never the parent, never a look-alike
    // such as "api.openai.com.attacker.example"); "*" any host.
    private static bool Matches(string host, string pattern)
    {
        if (pattern == "*")
            return true;
        if (pattern.StartsWith("*.", StringComparison.Ordinal))
            return host.Length > pattern.Length - 1 && host.EndsWith(pattern[1..], StringComparison.OrdinalIgnoreCase);
        return string.Equals(host, pattern, StringComparison.OrdinalIgnoreCase);
    }
}
