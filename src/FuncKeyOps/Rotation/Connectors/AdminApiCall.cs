using System.Net.Http.Json;
using System.Text.Json;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace FuncKeyOps.Rotation.Connectors;

/// <summary>Why a provider's admin API could not do what a connector asked; never holds a key or a key's hint.</summary>
internal sealed record AdminFailure(string Detail, bool Transient)
{
    public ConnectorCreation ToCreation() => new(ConnectorCreateOutcome.Failed, Detail: Detail, Transient: Transient);

    public ConnectorRevocation ToRevocation() => new(ConnectorRevokeOutcome.Failed, Detail, Transient);
}

/// <summary>One admin API answer: the status, and the JSON body when the call succeeded.</summary>
internal readonly record struct AdminAnswer(int Status, JsonElement Body, AdminFailure? Failure)
{
    public bool NotFound => Status == 404;
}

/// <summary>
/// Sends one admin API request through a connector's resilient client and turns every way it can go wrong into an
/// <see cref="AdminFailure"/>: 401/403 say the admin key is refused (not transient), 429, 5xx, timeouts and connection
/// failures are transient (the step is re-run), any other status is not. Error bodies are not read into the detail:
/// a provider may quote part of the key it refused.
/// </summary>
internal static class AdminApiCall
{
    public static async Task<AdminAnswer> SendAsync(HttpClient client, HttpRequestMessage request, string provider, string what, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken).ConfigureAwait(false);
                return new AdminAnswer(status, body, null);
            }

            return new AdminAnswer(status, default, status switch
            {
                401 or 403 => new AdminFailure($"The {provider} admin API refused the admin key ({status}) on {what}: check the admin key secret and its permissions.", false),
                404 => new AdminFailure($"The {provider} admin API found nothing at {what} (404).", false),
                429 or >= 500 => new AdminFailure($"The {provider} admin API answered {status} on {what}; worth retrying.", true),
                _ => new AdminFailure($"The {provider} admin API answered {status} on {what}.", false),
            });
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException or BrokenCircuitException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new AdminAnswer(0, default, new AdminFailure($"The {provider} admin API could not be reached on {what} ({e.GetType().Name}); worth retrying.", true));
        }
        catch (JsonException)
        {
            return new AdminAnswer(0, default, new AdminFailure($"The {provider} admin API answered {what} with a body that is not JSON.", true));
        }
    }

    public static string? String(this JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
