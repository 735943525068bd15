namespace FuncKeyOps.Storage;

/// <summary>Where Table Storage lives. Connection string for Azurite/local; endpoint + managed identity in Azure.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Azurite or a local account. Never used in Azure, where shared keys are disabled.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Table endpoint such as https://acct.table.core.windows.net, used with DefaultAzureCredential.</summary>
    public Uri? TableEndpoint { get; set; }

    /// <summary>Prepended to every table name; lets tests and side-by-side deployments share one account.</summary>
    public string TablePrefix { get; set; } = "";
}
