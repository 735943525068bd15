namespace FuncKeyOps.Alerts;

public sealed class AlertOptions
{
    public const string Section = "Alerts";

    /// <summary>The Key Vault secret holding the webhook URL (a secret: such URLs usually carry a token). Absent: alerts go to the log.</summary>
    public string WebhookSecret { get; set; } = "fko-alert-webhook";

    /// <summary>
    /// How long a publisher that claimed an alert has to deliver it before another publish of the same dedupe key
    /// may send it instead (its process may have died mid-send). Above the webhook's whole retry budget
    /// (<c>Alerts:Resilience:TotalRequestTimeout</c>, 30 s by default), so a live sender is never doubled.
    /// </summary>
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromMinutes(1);
}
