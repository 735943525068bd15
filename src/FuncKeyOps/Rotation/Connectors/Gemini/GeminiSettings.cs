namespace FuncKeyOps.Rotation.Connectors.Gemini;

/// <summary>The <c>connectorSettings</c> of a provider key rotated by the <c>gemini</c> connector.</summary>
internal sealed record GeminiSettings(string ProjectId, string ServiceAccountSecret, IReadOnlyList<string> AllowedIps, Uri ApiKeysEndpoint)
{
    public static readonly Uri DefaultApiKeysEndpoint = new("https://apikeys.googleapis.com/");

    public static GeminiSettings Read(IReadOnlyDictionary<string, string> settings)
    {
        const string connector = GeminiKeyConnector.ConnectorName;
        var endpoint = settings.TryGetValue("apiKeysEndpoint", out var configured) && Uri.TryCreate(configured, UriKind.Absolute, out var uri)
            ? new Uri(uri.AbsoluteUri.TrimEnd('/') + "/")
            : DefaultApiKeysEndpoint;
        var ips = settings.TryGetValue("allowedIps", out var list)
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];
        return new GeminiSettings(
            ConnectorSettingMissingException.Required(settings, connector, "projectId"),
            ConnectorSettingMissingException.Required(settings, connector, "serviceAccountSecret"),
            ips,
            endpoint);
    }
}
