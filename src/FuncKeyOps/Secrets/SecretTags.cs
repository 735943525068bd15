namespace FuncKeyOps.Secrets;

public static class SecretTags
{
    public const string State = "state";

    /// <summary>The provider's own id for the key (e.g. OpenAI key id), so revoke can find it at the provider.</summary>
    public const string ProviderKeyId = "providerKeyId";

    public static string ToTag(this SecretVersionState state) => state switch
    {
        SecretVersionState.Pending => "pending",
        SecretVersionState.Active => "active",
        SecretVersionState.Previous => "previous",
        SecretVersionState.Revoked => "revoked",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    public static SecretVersionState? ReadState(IReadOnlyDictionary<string, string> tags) =>
        tags.TryGetValue(State, out var value) && Enum.TryParse<SecretVersionState>(value, ignoreCase: true, out var state)
            ? state
            : null;
}
