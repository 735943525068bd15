using FuncKeyOps.Testing.Alerts;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>
/// An alert webhook that hangs (it answers nothing until the test lets it) behind the host's real alert sink, with a
/// resilience budget far above the tests' signal bound: a start or a step that waited for an alert would never return.
/// </summary>
internal static class AlertOutage
{
    /// <summary>The host settings: the client waits on the webhook for ten minutes (the default gives up after 30 s).</summary>
    public static Dictionary<string, string?> Settings(IDictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>(more ?? new Dictionary<string, string?>())
        {
            ["Alerts:Resilience:AttemptTimeout:Timeout"] = "00:05:00",
            ["Alerts:Resilience:CircuitBreaker:SamplingDuration"] = "00:10:00",
            ["Alerts:Resilience:TotalRequestTimeout:Timeout"] = "00:10:00",
        };
        return settings;
    }

    /// <summary>Points the host's alert sink at <paramref name="webhook"/>, which hangs from now on.</summary>
    public static void HangWebhook(RotationHost host, WebhookReceiver webhook)
    {
        webhook.Hold();
        host.Relay.Server.Vault.SetSecretDirect(new FuncKeyOps.Alerts.AlertOptions().WebhookSecret, webhook.Url.ToString());
    }
}
