namespace FuncKeyOps.Rotation.Connectors;

/// <summary>A provider key's connectorSettings lacks a value the connector needs: the operator must fix the key, no retry helps.</summary>
internal sealed class ConnectorSettingMissingException(string connector, string setting)
    : Exception($"{connector}: connectorSettings.{setting} is required")
{
    public static string Required(IReadOnlyDictionary<string, string> settings, string connector, string setting) =>
        settings.TryGetValue(setting, out var value) && !string.IsNullOrWhiteSpace(value)
            ? value
            : throw new ConnectorSettingMissingException(connector, setting);
}
