namespace FuncKeyOps.Anomalies;

/// <summary>The detectors' names: in finding ids, the findings API's <c>detector</c> filter, settings and metrics.</summary>
public static class Detectors
{
    public const string Volume = "volume";
    public const string Tokens = "tokens";
    public const string QuietHours = "quiet_hours";
    public const string NewSource = "new_source";
    public const string AuthFailures = "auth_failures";
    public const string ErrorRate = "error_rate";
    public const string ProviderKeyRejected = "provider_key_rejected";
    public const string Budget = "budget";
    public const string ShadowUsage = "shadow_usage";
    public const string RetiredKeyUse = "retired_key_use";

    public static IReadOnlyList<string> All { get; } =
        [Volume, Tokens, QuietHours, NewSource, AuthFailures, ErrorRate, ProviderKeyRejected, Budget, ShadowUsage, RetiredKeyUse];
}
