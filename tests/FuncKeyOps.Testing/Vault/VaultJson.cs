using System.Text.Json;

namespace FuncKeyOps.Testing.Vault;

/// <summary>
/// Key Vault's secret wire shapes (SecretBundle, SecretItem, DeletedSecretBundle, DeletedSecretItem).
/// Written by hand so that optional fields are omitted exactly as the service omits them, rather than
/// sent as nulls the SDK would have to tolerate.
/// </summary>
internal static class VaultJson
{
    public const string RecoveryLevel = "Recoverable+Purgeable";

    public static string SecretId(Uri vaultUri, string name, string? version = null) =>
        version is null ? $"{vaultUri}secrets/{name}" : $"{vaultUri}secrets/{name}/{version}";

    public static string RecoveryId(Uri vaultUri, string name) => $"{vaultUri}deletedsecrets/{name}";

    /// <summary>SecretBundle. The value is left out for calls that only manage properties, as the service does.</summary>
    public static void WriteBundle(Utf8JsonWriter w, Uri vaultUri, VaultSecretVersion v, bool includeValue)
    {
        w.WriteStartObject();
        WriteBundleFields(w, vaultUri, v, includeValue);
        w.WriteEndObject();
    }

    public static void WriteItem(Utf8JsonWriter w, Uri vaultUri, VaultSecretVersion v, bool withVersion)
    {
        w.WriteStartObject();
        WriteItemFields(w, vaultUri, v, withVersion);
        w.WriteEndObject();
    }

    public static void WriteDeletedBundle(Utf8JsonWriter w, Uri vaultUri, VaultDeletedSecret d)
    {
        w.WriteStartObject();
        WriteDeletionFields(w, vaultUri, d);
        // The service does not return a deleted secret's value.
        WriteBundleFields(w, vaultUri, d.Latest, includeValue: false);
        w.WriteEndObject();
    }

    public static void WriteDeletedItem(Utf8JsonWriter w, Uri vaultUri, VaultDeletedSecret d)
    {
        w.WriteStartObject();
        WriteDeletionFields(w, vaultUri, d);
        WriteItemFields(w, vaultUri, d.Latest, withVersion: false);
        w.WriteEndObject();
    }

    public static void WriteError(Utf8JsonWriter w, string code, string message, string? innerCode)
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("code", code);
        w.WriteString("message", message);
        if (innerCode is not null)
        {
            w.WriteStartObject("innererror");
            w.WriteString("code", innerCode);
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteBundleFields(Utf8JsonWriter w, Uri vaultUri, VaultSecretVersion v, bool includeValue)
    {
        if (includeValue)
        {
            w.WriteString("value", v.Value);
        }

        w.WriteString("id", SecretId(vaultUri, v.Name, v.Version));
        WriteCommonFields(w, v);
    }

    private static void WriteItemFields(Utf8JsonWriter w, Uri vaultUri, VaultSecretVersion v, bool withVersion)
    {
        w.WriteString("id", SecretId(vaultUri, v.Name, withVersion ? v.Version : null));
        WriteCommonFields(w, v);
    }

    private static void WriteDeletionFields(Utf8JsonWriter w, Uri vaultUri, VaultDeletedSecret d)
    {
        w.WriteString("recoveryId", RecoveryId(vaultUri, d.Latest.Name));
        w.WriteNumber("deletedDate", d.DeletedOn.ToUnixTimeSeconds());
        w.WriteNumber("scheduledPurgeDate", d.ScheduledPurgeDate.ToUnixTimeSeconds());
    }

    private static void WriteCommonFields(Utf8JsonWriter w, VaultSecretVersion v)
    {
        if (v.ContentType is not null)
        {
            w.WriteString("contentType", v.ContentType);
        }

        w.WriteStartObject("attributes");
        w.WriteBoolean("enabled", v.Enabled);
        if (v.NotBefore is { } nbf)
        {
            w.WriteNumber("nbf", nbf.ToUnixTimeSeconds());
        }

        if (v.ExpiresOn is { } exp)
        {
            w.WriteNumber("exp", exp.ToUnixTimeSeconds());
        }

        w.WriteNumber("created", v.Created.ToUnixTimeSeconds());
        w.WriteNumber("updated", v.Updated.ToUnixTimeSeconds());
        w.WriteString("recoveryLevel", RecoveryLevel);
        w.WriteNumber("recoverableDays", VaultStore.RecoverableDays);
        w.WriteEndObject();

        if (v.Tags.Count > 0)
        {
            w.WriteStartObject("tags");
            foreach (var (key, value) in v.Tags)
            {
                w.WriteString(key, value);
            }

            w.WriteEndObject();
        }
    }
}
