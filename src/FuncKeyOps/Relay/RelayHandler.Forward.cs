using FuncKeyOps.Errors;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Providers;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Relay;

// One provider key: the call with the upstream client's retries, then once on the other weighted version.
public sealed partial class RelayHandler
{
    private async Task ForwardAsync(HttpContext context, IProviderAdapter adapter, RelayCall call, RequestPlan plan, Uri upstreamUri, ResolvedProviderKey providerKey)
    {
        // Before sending: a request that cannot be built is the client's error, not an attempt at the provider.
        if (await RefuseUnsendableHeaderAsync(context, adapter, call).ConfigureAwait(false))
            return;
        // The key's own RPM/TPM ceiling holds whichever route uses it; alone, the key has no other member to pass to.
        var limit = await limiter.TryAcquireAsync(providerKey.Config, context.RequestAborted).ConfigureAwait(false);
        if (!limit.Allowed)
        {
            LogMemberSkipped(logger, call.RequestId, providerKey.Config.Name, "its rate limit is reached");
            await RelayErrors.WriteAsync(context, adapter, call, FuncKeyOpsErrors.ProviderKeysBusy, retryAfter: limit.RetryAfter ?? OneSecond).ConfigureAwait(false);
            return;
        }
        call.ServingKey = providerKey.Config;
        var attempt = await AttemptAsync(context, adapter, call, plan, upstreamUri, providerKey.Value, providerKey.Config, circuit: null).ConfigureAwait(false);
        // During a rotation two versions carry weight: one the provider refuses, or that cannot reach it, gets one more
        // try on the other, still before the client's first byte. The failed attempt keeps its own audit row, so a
        // sweep of error rates per version sees it as that version's error while the client sees no error at all.
        // The retry is an upstream request of its own: it needs its own permit of the key's limit, else the first answer stands.
        if (attempt is { MayRetryOnOtherVersion: true, Failure: { } first }
            && await providerKeys.ResolveOtherAsync(providerKey, context.RequestAborted).ConfigureAwait(false) is { } other
            && (await limiter.TryAcquireAsync(providerKey.Config, context.RequestAborted).ConfigureAwait(false)).Allowed)
        {
            LogRetryingOnOtherVersion(logger, call.RequestId, call.ProviderKeyName, call.ProviderKeyVersion, first.Code, other.Version);
            audit.Enqueue(call.RetryOn(other.Version, first, attempt.UpstreamStatus, time.GetElapsedTime(call.Started)));
            providerKey = other;
            attempt = await AttemptAsync(context, adapter, call, plan, upstreamUri, providerKey.Value, providerKey.Config, circuit: null).ConfigureAwait(false);
        }
        if (attempt.Failure is { } failure)
        {
            call.UpstreamStatus = attempt.UpstreamStatus;
            await RelayErrors.WriteAsync(context, adapter, call, failure, FailureMessage(failure, attempt.UpstreamStatus, providerKey.Config),
                failure == FuncKeyOpsErrors.ProviderKeysBusy ? attempt.RetryAfter ?? OneSecond : null).ConfigureAwait(false);
            return;
        }
        await RespondAsync(context, adapter, call, plan, attempt, providerKey.Value).ConfigureAwait(false);
    }

    /// <summary>Before sending: a request that cannot be built is the client's error, not an attempt at the provider.</summary>
    private static async ValueTask<bool> RefuseUnsendableHeaderAsync(HttpContext context, IProviderAdapter adapter, RelayCall call)
    {
        if (UpstreamRequestFactory.FindUnsendableHeader(context.Request, adapter) is not { } header)
            return false;
        await RelayErrors.WriteAsync(context, adapter, call, FuncKeyOpsErrors.InvalidHeader,
            $"The {header} header has characters that cannot be forwarded: only visible ASCII, space and tab.").ConfigureAwait(false);
        return true;
    }
}
