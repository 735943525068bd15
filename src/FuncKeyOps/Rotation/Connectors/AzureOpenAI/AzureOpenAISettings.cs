namespace FuncKeyOps.Rotation.Connectors.AzureOpenAI;

/// <summary>The <c>connectorSettings</c> of a provider key rotated by the <c>azure-openai</c> connector.</summary>
internal sealed record AzureOpenAISettings(string ResourceId, Uri ArmEndpoint)
{
    public static readonly Uri DefaultArmEndpoint = new("https://management.azure.com/");

    public static AzureOpenAISettings Read(IReadOnlyDictionary<string, string> settings)
    {
        var resourceId = ConnectorSettingMissingException.Required(settings, AzureOpenAIKeyConnector.ConnectorName, "resourceId");
        var endpoint = settings.TryGetValue("armEndpoint", out var configured) && Uri.TryCreate(configured, UriKind.Absolute, out var uri)
            ? new Uri(uri.AbsoluteUri.TrimEnd('/') + "/")
            : DefaultArmEndpoint;
        return new AzureOpenAISettings("/" + resourceId.Trim('/'), endpoint);
    }
}
