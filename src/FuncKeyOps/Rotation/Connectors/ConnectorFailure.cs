using System.Net;

namespace FuncKeyOps.Rotation.Connectors;

/// <summary>
/// How a connector words and classifies a provider's refusal: the status (and the provider's error code, an enum-like
/// word) only, never a response body, which may quote a credential or a key.
/// </summary>
internal static class ConnectorFailure
{
    /// <summary>Worth retrying: timeouts, throttling, the provider's own faults. 401/403/4xx are not.</summary>
    public static bool IsTransient(int status) => status is 0 or 408 or 429 || status >= 500;

    public static string Describe(string connector, string operation, int status, string? providerCode) =>
        status == 0
            ? $"{connector}: {operation} got no answer from the provider"
            : $"{connector}: {operation} was answered {status} {(HttpStatusCode)status}{(providerCode is { Length: > 0 } ? $" ({providerCode})" : "")}";

    /// <summary>A vault read the connector needed failed: a missing secret is the operator's to fix, a vault outage passes.</summary>
    public static (string Detail, bool Transient) SecretUnreadable(string connector, string setting, FuncKeyOps.Secrets.SecretStoreException e) =>
        e is FuncKeyOps.Secrets.SecretNotFoundException
            ? ($"{connector}: the secret named by connectorSettings.{setting} does not exist", false)
            : ($"{connector}: the secret named by connectorSettings.{setting} could not be read (vault status {e.Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"})",
               e.Status is null or 408 or 429 or >= 500);

    public static ConnectorCreation CreateFailed(string detail, bool transient) =>
        new(ConnectorCreateOutcome.Failed, Detail: detail, Transient: transient);

    public static ConnectorRevocation RevokeFailed(string detail, bool transient) =>
        new(ConnectorRevokeOutcome.Failed, Detail: detail, Transient: transient);
}
