using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Storage;

namespace FuncKeyOps.ProviderKeys;

/// <summary>Row of the <c>providerkeys</c> table: PartitionKey <c>provider</c>, RowKey the key name.</summary>
internal sealed class ProviderKeyEntity : ITableEntity
{
    public string PartitionKey { get; set; } = TableKeys.ProviderPartition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Provider { get; set; } = "";
    public string BaseUrl { get; set; } = "";
    public string SecretName { get; set; } = "";
    public string Connector { get; set; } = "manual";
    public string? Policy { get; set; }
    /// <summary>JSON object of strings: <see cref="ProviderKeyConfig.ConnectorSettings"/>.</summary>
    public string? ConnectorSettings { get; set; }
    /// <summary>JSON object version -> weight.</summary>
    public string Weights { get; set; } = "{}";
    public bool IsDefault { get; set; }
    public int? Rpm { get; set; }
    public long? Tpm { get; set; }
    public string? Tenant { get; set; }
    /// <summary>The last <see cref="WriteFence"/> a rotation driver stamped the row with (not part of the config).</summary>
    public string? RotationFence { get; set; }

    public ProviderKeyConfig ToConfig() => new()
    {
        Name = RowKey,
        Provider = Provider,
        BaseUrl = new Uri(BaseUrl),
        SecretName = SecretName,
        Connector = Connector,
        Policy = Policy,
        ConnectorSettings = string.IsNullOrEmpty(ConnectorSettings) ? new Dictionary<string, string>()
            : JsonSerializer.Deserialize<Dictionary<string, string>>(ConnectorSettings) ?? [],
        Weights = JsonSerializer.Deserialize<Dictionary<string, int>>(Weights) ?? [],
        IsDefault = IsDefault,
        Rpm = Rpm,
        Tpm = Tpm,
        Tenant = Tenant,
    };

    public static ProviderKeyEntity From(ProviderKeyConfig config) => new()
    {
        RowKey = config.Name,
        Provider = config.Provider,
        BaseUrl = config.BaseUrl.ToString(),
        SecretName = config.SecretName,
        Connector = config.Connector,
        Policy = config.Policy,
        ConnectorSettings = config.ConnectorSettings.Count == 0 ? null : JsonSerializer.Serialize(config.ConnectorSettings),
        Weights = WriteWeights(config.Weights),
        IsDefault = config.IsDefault,
        Rpm = config.Rpm,
        Tpm = config.Tpm,
        Tenant = config.Tenant,
    };

    public static string WriteWeights(IReadOnlyDictionary<string, int> weights) => JsonSerializer.Serialize(weights);
}
