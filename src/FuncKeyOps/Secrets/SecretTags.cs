using System.Globalization;

namespace FuncKeyOps.Secrets;

public static class SecretTags
{
    public const string State = "state";

    /// <summary>The provider's own id for the key (e.g. OpenAI key id), so revoke can find it at the provider.</summary>
    public const string ProviderKeyId = "providerKeyId";

    /// <summary>
    /// When the version was revoked (round-trip UTC, <c>o</c>), written with <c>state=revoked</c> where the revoking code
    /// knows it; shadow-usage detection reads it to tell use before the revoke from use after it.
    /// </summary>
    public const string RevokedAt = "revokedAt";

    public static string ToTag(this SecretVersionState state) => state switch
    {
        SecretVersionState.Pending => "pending",
        SecretVersionState.Active => "active",
        SecretVersionState.Previous => "previous",
        SecretVersionState.Revoked => "revoked",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    public static string ToTag(this DateTimeOffset time) => time.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture);

    /// <summary>The <see cref="RevokedAt"/> tag, or null when absent or not a time.</summary>
    public static DateTimeOffset? ReadRevokedAt(IReadOnlyDictionary<string, string> tags) =>
        tags.TryGetValue(RevokedAt, out var value)
        && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : null;

    public static SecretVersionState? ReadState(IReadOnlyDictionary<string, string> tags) =>
        tags.TryGetValue(State, out var value) && Enum.TryParse<SecretVersionState>(value, ignoreCase: true, out var state)
            ? state
            : null;
}
