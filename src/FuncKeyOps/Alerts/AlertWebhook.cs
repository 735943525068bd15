using System.Net.Http.Json;
using System.Text.Json;
using FuncKeyOps.Secrets;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Alerts;

/// <summary>
/// POSTs an alert as JSON to the webhook URL kept in Key Vault (<see cref="AlertOptions.WebhookSecret"/>), through
/// the named client's standard resilience handler (retries with backoff, timeouts).
/// </summary>
internal sealed class AlertWebhook(IHttpClientFactory clients, SecretCache secrets, IOptions<AlertOptions> options)
{
    public const string ClientName = "FuncKeyOps.Alerts";

    /// <summary>The webhook URL, or null when no webhook secret exists (alerts then go to the log).</summary>
    public async Task<Uri?> FindUrlAsync(CancellationToken cancellationToken)
    {
        try
        {
            var secret = await secrets.GetAsync(options.Value.WebhookSecret, cancellationToken: cancellationToken).ConfigureAwait(false);
            return new Uri(secret.Value.Trim(), UriKind.Absolute);
        }
        catch (SecretNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Sends the alert; throws <see cref="HttpRequestException"/> when the webhook cannot be reached or does not answer 2xx.</summary>
    public async Task SendAsync(Uri url, Alert alert, CancellationToken cancellationToken)
    {
        var body = new AlertBody(alert.Kind, alert.Subject, alert.Message, alert.Time, alert.Details, alert.DedupeKey);
        using var client = clients.CreateClient(ClientName);
        using var response = await client.PostAsJsonAsync(url, body, JsonSerializerOptions.Web, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    private sealed record AlertBody(string Kind, string Subject, string Message, DateTimeOffset Time,
        IReadOnlyDictionary<string, string>? Details, string DedupeKey);
}
