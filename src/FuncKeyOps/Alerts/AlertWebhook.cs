using System.Net.Http.Json;
using System.Text.Json;
using FuncKeyOps.Secrets;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Alerts;

/// <summary>
/// POSTs an alert as JSON to the webhook URL kept in Key Vault (<see cref="AlertOptions.WebhookSecret"/>), through
/// the named client's standard resilience handler (retries with backoff, timeouts). The body carries each field of the
/// alert and a <c>text</c> line that a Slack or Teams incoming webhook shows as it is.
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
        var body = new AlertBody(TextOf(alert), alert.Kind, alert.Subject, alert.Message, alert.Time, alert.Details, alert.DedupeKey);
        using var client = clients.CreateClient(ClientName);
        using var response = await client.PostAsJsonAsync(url, body, JsonSerializerOptions.Web, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>
    /// The body's <c>text</c>: the one field Slack and Teams incoming webhooks show, so the same URL works with
    /// either, or with anything reading the other fields. One line (kind, subject, message). Slack reads <c>&amp;</c>,
    /// <c>&lt;</c> and <c>&gt;</c> as markup (links, mentions), so those three are sent as the HTML entities both
    /// show as the character; nothing else is escaped, and an alert never carries a secret to begin with.
    /// </summary>
    internal static string TextOf(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var line = $"[{alert.Kind}] {alert.Subject}: {alert.Message}";
        var text = new System.Text.StringBuilder(line.Length + 16);
        foreach (var c in line)
        {
            _ = c switch
            {
                '&' => text.Append("&amp;"),
                '<' => text.Append("&lt;"),
                '>' => text.Append("&gt;"),
                // One line: a message with line breaks would otherwise start a new paragraph.
                _ when char.IsControl(c) => text.Append(' '),
                _ => text.Append(c),
            };
        }
        return text.ToString();
    }

    private sealed record AlertBody(string Text, string Kind, string Subject, string Message, DateTimeOffset Time,
        IReadOnlyDictionary<string, string>? Details, string DedupeKey);
}
