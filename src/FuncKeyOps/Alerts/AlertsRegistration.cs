using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace FuncKeyOps.Alerts;

public static class AlertsRegistration
{
    /// <summary>
    /// The <see cref="IAlertSink"/> (webhook or log, deduplicated in the <c>alerts</c> table, delivered in the background
    /// by a hosted service so that publishers never wait on the webhook) and its options. The
    /// webhook's client retries through the standard resilience handler, tuned under <c>Alerts:Resilience</c>.
    /// Needs a <see cref="Storage.TableStore"/> and a <see cref="Secrets.SecretCache"/> (AddFuncKeyOps registers them).
    /// </summary>
    public static IServiceCollection AddAlerts(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<AlertOptions>()
            .Bind(configuration.GetSection(AlertOptions.Section))
            .Validate(o => !string.IsNullOrWhiteSpace(o.WebhookSecret), "Alerts:WebhookSecret must name a Key Vault secret.")
            .Validate(o => o.ClaimTimeout > TimeSpan.Zero, "Alerts:ClaimTimeout must be positive.")
            .ValidateOnStart();
        services.AddHttpClient(AlertWebhook.ClientName)
            // The default request logging writes the URL, and a webhook URL is a secret (it usually embeds a token).
            .RemoveAllLoggers()
            // Defaults (3 retries with backoff, 30 s in all) unless Alerts:Resilience says otherwise.
            .AddStandardResilienceHandler(options => configuration.GetSection(AlertOptions.Section + ":Resilience").Bind(options));
        services.TryAddSingleton<AlertLedger>();
        services.TryAddSingleton<AlertWebhook>();
        services.TryAddSingleton<AlertSink>();
        // Callers only queue: the delivery service sends, so an alert outage never holds up a rotation.
        services.TryAddSingleton<AlertQueue>();
        services.TryAddSingleton<IAlertSink, QueuedAlertSink>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, AlertDeliveryService>());
        return services;
    }
}
