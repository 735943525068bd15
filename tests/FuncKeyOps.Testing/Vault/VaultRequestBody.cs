using System.Text.Json;

namespace FuncKeyOps.Testing.Vault;

/// <summary>
/// Reads SecretSetParameters and SecretUpdateParameters bodies. Error messages name the offending
/// property only: a body carries a secret value, so neither it nor a parser message quoting it may escape.
/// </summary>
internal static class VaultRequestBody
{
    // DateTimeOffset.MinValue and MaxValue in Unix seconds: outside them FromUnixTimeSeconds throws.
    private const long MinUnixSeconds = -62_135_596_800;
    private const long MaxUnixSeconds = 253_402_300_799;

    public static VaultSecretWrite ReadSet(ReadOnlySpan<byte> body)
    {
        using var doc = Parse(body);
        var root = doc.RootElement;
        if (!root.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.String)
        {
            throw VaultException.BadParameter("Property 'value' is required and must be a string.");
        }

        var (enabled, nbf, exp) = ReadAttributes(root);
        return new VaultSecretWrite(value.GetString()!, ReadContentType(root), ReadTags(root), enabled, nbf, exp);
    }

    public static VaultSecretPatch ReadPatch(ReadOnlySpan<byte> body)
    {
        using var doc = Parse(body);
        var root = doc.RootElement;
        var (enabled, nbf, exp) = ReadAttributes(root);
        return new VaultSecretPatch(ReadContentType(root), ReadTags(root), enabled, nbf, exp);
    }

    private static JsonDocument Parse(ReadOnlySpan<byte> body)
    {
        JsonDocument doc;
        try
        {
            var reader = new Utf8JsonReader(body);
            doc = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            throw VaultException.BadParameter("The request body is not valid JSON.");
        }

        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            doc.Dispose();
            throw VaultException.BadParameter("The request body must be a JSON object.");
        }

        return doc;
    }

    private static string? ReadContentType(JsonElement root) =>
        root.TryGetProperty("contentType", out var ct) ? ct.ValueKind switch
        {
            JsonValueKind.String => ct.GetString(),
            JsonValueKind.Null => null,
            _ => throw VaultException.BadParameter("Property 'contentType' must be a string."),
        } : null;

    private static Dictionary<string, string>? ReadTags(JsonElement root)
    {
        if (!root.TryGetProperty("tags", out var tags) || tags.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (tags.ValueKind != JsonValueKind.Object)
        {
            throw VaultException.BadParameter("Property 'tags' must be an object.");
        }

        var result = new Dictionary<string, string>();
        foreach (var tag in tags.EnumerateObject())
        {
            if (tag.Value.ValueKind != JsonValueKind.String)
            {
                throw VaultException.BadParameter($"Tag '{tag.Name}' must have a string value.");
            }

            result[tag.Name] = tag.Value.GetString()!;
        }

        return result;
    }

    private static (bool? Enabled, DateTimeOffset? NotBefore, DateTimeOffset? ExpiresOn) ReadAttributes(JsonElement root)
    {
        if (!root.TryGetProperty("attributes", out var attributes) || attributes.ValueKind == JsonValueKind.Null)
        {
            return (null, null, null);
        }

        if (attributes.ValueKind != JsonValueKind.Object)
        {
            throw VaultException.BadParameter("Property 'attributes' must be an object.");
        }

        bool? enabled = null;
        if (attributes.TryGetProperty("enabled", out var e) && e.ValueKind != JsonValueKind.Null)
        {
            enabled = e.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw VaultException.BadParameter("Property 'attributes.enabled' must be a boolean."),
            };
        }

        return (enabled, ReadUnixTime(attributes, "nbf"), ReadUnixTime(attributes, "exp"));
    }

    private static DateTimeOffset? ReadUnixTime(JsonElement attributes, string name)
    {
        if (!attributes.TryGetProperty(name, out var t) || t.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return t.ValueKind == JsonValueKind.Number && t.TryGetInt64(out var seconds) && seconds is >= MinUnixSeconds and <= MaxUnixSeconds
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : throw VaultException.BadParameter($"Property 'attributes.{name}' must be a Unix time in seconds.");
    }
}
