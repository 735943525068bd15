using System.Globalization;
using System.Net;
using FuncKeyOps.Secrets;

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

    /// <summary>
    /// The failures a connector expects (bad settings, a provider's refusal, a vault read), as a detail safe to log and
    /// return and whether a retry may help; false for anything else, which is a bug and propagates.
    /// </summary>
    /// <param name="secretsRead">Names the vault secrets the connector reads, for the operator.</param>
    public static bool TryDescribe(Exception e, string connector, string secretsRead, out string detail, out bool transient)
    {
        (detail, transient) = e switch
        {
            ConnectorSettingMissingException => (e.Message, false),
            ProviderCallException call => (call.Message, call.Transient),
            // A missing secret is the operator's to fix; a vault outage passes.
            SecretNotFoundException => ($"{connector}: {secretsRead} does not exist", false),
            SecretStoreException store => (
                $"{connector}: reading {secretsRead} failed (vault status {store.Status?.ToString(CultureInfo.InvariantCulture) ?? "none"})",
                store.Status is null or 408 or 429 or >= 500),
            _ => ("", false),
        };
        return detail.Length > 0;
    }

    public static ConnectorCreation CreateFailed(string detail, bool transient) =>
        new(ConnectorCreateOutcome.Failed, Detail: detail, Transient: transient);

    public static ConnectorRevocation RevokeFailed(string detail, bool transient) =>
        new(ConnectorRevokeOutcome.Failed, Detail: detail, Transient: transient);
}
