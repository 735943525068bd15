using FuncKeyOps.Providers;
using FuncKeyOps.Relay;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly.Timeout;

namespace FuncKeyOps.ProviderKeys;

/// <summary>
/// Proves a provider key value works before it may serve, with the adapter's validation call (a model list) sent
/// through the relay's <see cref="UpstreamClient"/>: the same pooled handler, retries of transient failures and timeout.
/// </summary>
public sealed partial class ProviderKeyValidator(
    ProviderCatalog catalog, UpstreamClient upstream, IOptions<ProviderKeyOptions> options, TimeProvider time, ILogger<ProviderKeyValidator> logger)
{
    public async Task<ProviderKeyValidation> ValidateAsync(ProviderKeyConfig config, string value, CancellationToken cancellationToken)
    {
        if (!catalog.TryGet(config.Provider, out var adapter))
            throw new InvalidOperationException($"No adapter for provider '{config.Provider}'.");
        var (path, query) = Split(adapter.ValidationPath);
        if (!UpstreamPath.TryBuild(config.BaseUrl, path, query, out var uri))
            throw new InvalidOperationException($"The validation path of '{adapter.Name}' does not fit under the base URL.");
        using var bound = new CancellationTokenSource(options.Value.ValidationTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, bound.Token);
        try
        {
            using var response = await upstream.SendAsync(() => adapter.CreateValidationRequest(uri!, value), linked.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            LogValidated(logger, config.Name, status);
            if (response.IsSuccessStatusCode)
                return new ProviderKeyValidation(ProviderKeyVerdict.Accepted, status);
            // Read only to tell a refused key from other failures (Google's reason is in the body); never echoed.
            var error = await UpstreamErrorBody.ReadAsync(response, linked.Token).ConfigureAwait(false);
            return new ProviderKeyValidation(adapter.IsProviderKeyRefusal(status, error) ? ProviderKeyVerdict.Rejected : ProviderKeyVerdict.Inconclusive, status);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException
            || (e is OperationCanceledException && bound.IsCancellationRequested && !cancellationToken.IsCancellationRequested))
        {
            LogUnreachable(logger, config.Name, e.GetType().Name);
            return new ProviderKeyValidation(ProviderKeyVerdict.Unreachable);
        }
    }

    private static (string Path, string Query) Split(string relative) =>
        relative.IndexOf('?') is var q and >= 0 ? (relative[..q], relative[q..]) : (relative, "");

    [LoggerMessage(Level = LogLevel.Information, Message = "Validation call for provider key {ProviderKeyName} answered {Status}")]
    private static partial void LogValidated(ILogger logger, string providerKeyName, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Validation call for provider key {ProviderKeyName} got no answer ({Failure})")]
    private static partial void LogUnreachable(ILogger logger, string providerKeyName, string failure);
}
