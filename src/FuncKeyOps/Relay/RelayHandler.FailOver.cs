using FuncKeyOps.Errors;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Providers;
using FuncKeyOps.Routing;
using FuncKeyOps.Secrets;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Relay;

// Several provider keys (a pool, or a tenant's key with the platform's behind it): one attempt each, in turn.
public sealed partial class RelayHandler
{
    /// <summary>
    /// A route with several provider keys (a pool, or a tenant's key with the platform's as fallback): the members in
    /// <see cref="MemberOrder"/>, passing by a member whose circuit is open (<see cref="ProviderKeyCircuits"/>) or whose
    /// own limit refuses, and ONE attempt each (no retries: the next member is the retry) until one answers with
    /// something the client may see. Connection failure, timeout before headers, a 429 showing the member's limit spent
    /// (one about the request's size is the client's answer, see AttemptAsync), 5xx and a refusal of the member's
    /// key move on to the next member, all before the client's first byte; a member passed only when its key is refused
    /// or unusable (<see cref="MemberFailover.KeyRefusedOnly"/>: a tenant's own) ends the call with any other failure,
    /// or with 429 while it rests. Every failed attempt is an audit row of its own naming its member
    /// (<see cref="RelayCall.FailedAttempt"/>); the call's row is the attempt that answered.
    /// Nobody served: the last attempt's failure (502/504; a 429 of the provider's: 429 <c>provider_keys_busy</c>), or,
    /// when no member could be tried at all because every one was resting, 429 <c>provider_keys_busy</c>; both with the
    /// soonest member's Retry-After.
    /// </summary>
    private async Task FailOverAsync(HttpContext context, IProviderAdapter adapter, RelayCall call, RequestPlan plan, ProviderRoute route, string path)
    {
        if (await RefuseUnsendableHeaderAsync(context, adapter, call).ConfigureAwait(false))
            return;
        var aborted = context.RequestAborted;
        var query = UpstreamRequestFactory.FilterQuery(context.Request, adapter);
        var tries = new List<FailedTry>(route.Members.Count);
        var rowsOwned = 0; // how many of the tries' rows are already enqueued
        TimeSpan? soonest = null;
        FuncKeyOpsError? missing = null;
        try
        {
            foreach (var member in MemberOrder.For(route, Random.Shared.Next))
            {
                var name = member.Key.Name;
                var passedOnlyIfRefused = member.Failover == MemberFailover.KeyRefusedOnly;
                var circuit = circuits.For(name);
                if (circuit.Resting() is { } resting)
                {
                    soonest = Soonest(soonest, resting);
                    LogMemberSkipped(logger, call.RequestId, name, "its circuit is open");
                    if (passedOnlyIfRefused)
                        break;
                    continue;
                }
                var limit = await limiter.TryAcquireAsync(member.Key, aborted).ConfigureAwait(false);
                if (!limit.Allowed)
                {
                    soonest = Soonest(soonest, limit.RetryAfter ?? OneSecond);
                    LogMemberSkipped(logger, call.RequestId, name, "its rate limit is reached");
                    if (passedOnlyIfRefused)
                        break;
                    continue;
                }
                ProviderKeyResolution resolution;
                try
                {
                    resolution = await providerKeys.ResolveAsync(member.Key, aborted).ConfigureAwait(false);
                }
                catch (SecretStoreException e)
                {
                    LogProviderKeyUnavailable(logger, call.RequestId, e.Status);
                    missing = FuncKeyOpsErrors.ProviderKeyUnavailable;
                    continue;
                }
                if (resolution.Key is not { } providerKey)
                {
                    missing = resolution.Missing;
                    LogMemberSkipped(logger, call.RequestId, name, "it has no active version");
                    continue;
                }
                // The deployment is the member's own; the audited model stays the client's.
                if (!UpstreamPath.TryBuild(member.Key.BaseUrl, DeploymentPath.Map(path, member.Deployments), query, out var upstreamUri))
                {
                    await RelayErrors.WriteAsync(context, adapter, call, FuncKeyOpsErrors.InvalidPath).ConfigureAwait(false);
                    return;
                }

                call.ProviderKeyName = name;
                call.ProviderKeyVersion = providerKey.Version;
                var attempt = await AttemptAsync(context, adapter, call, plan, upstreamUri!, providerKey.Value, member.Key, circuit).ConfigureAwait(false);
                if (!attempt.WasSent)
                {
                    soonest = Soonest(soonest, circuit.Resting() ?? OneSecond);
                    LogMemberSkipped(logger, call.RequestId, name, "its circuit is open");
                    if (passedOnlyIfRefused)
                        break;
                    continue;
                }
                if (attempt.Failure is { } failure)
                {
                    if (failure == FuncKeyOpsErrors.ProviderKeysBusy)
                        soonest = Soonest(soonest, attempt.RetryAfter ?? circuit.Resting() ?? OneSecond);
                    tries.Add(new FailedTry(member.Key, providerKey.Version, failure, attempt.UpstreamStatus, time.GetElapsedTime(call.Started)));
                    LogMemberFailed(logger, call.RequestId, name, providerKey.Version, failure.Code, attempt.UpstreamStatus);
                    if (passedOnlyIfRefused && failure != FuncKeyOpsErrors.ProviderKeyRejected)
                        break;
                    continue;
                }

                call.ServingKey = member.Key;
                call.Attempt = tries.Count > 0 ? tries.Count + 1 : null;
                rowsOwned = EnqueueTries(call, tries, rowsOwned, tries.Count);
                await RespondAsync(context, adapter, call, plan, attempt, providerKey.Value).ConfigureAwait(false);
                return;
            }

            if (tries.Count == 0)
            {
                call.ProviderKeyName = call.ProviderKeyVersion = null;
                if (soonest is { } wait)
                    await RelayErrors.WriteAsync(context, adapter, call, FuncKeyOpsErrors.ProviderKeysBusy, retryAfter: wait).ConfigureAwait(false);
                else
                    await RelayErrors.WriteAsync(context, adapter, call, missing ?? FuncKeyOpsErrors.NoActiveProviderKey).ConfigureAwait(false);
                return;
            }
            // The last attempt is the call's own row: it is the answer the client gets.
            rowsOwned = EnqueueTries(call, tries, rowsOwned, tries.Count - 1);
            var last = tries[^1];
            (call.ProviderKeyName, call.ProviderKeyVersion, call.UpstreamStatus) = (last.Key.Name, last.Version, last.UpstreamStatus);
            call.Attempt = tries.Count > 1 ? tries.Count : null;
            rowsOwned = tries.Count;
            await RelayErrors.WriteAsync(context, adapter, call, last.Failure, FailureMessage(last.Failure, last.UpstreamStatus, last.Key),
                last.Failure == FuncKeyOpsErrors.ProviderKeysBusy ? soonest ?? OneSecond : null).ConfigureAwait(false);
        }
        finally
        {
            // The client gone (or the relay failing) mid-failover: the attempts already made are still audited.
            EnqueueTries(call, tries, rowsOwned, tries.Count);
        }
    }

    /// <summary>Enqueues the rows of tries [<paramref name="from"/>, <paramref name="to"/>) as attempts 1, 2, ...; returns <paramref name="to"/>.</summary>
    private int EnqueueTries(RelayCall call, List<FailedTry> tries, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            var tried = tries[i];
            audit.Enqueue(call.FailedAttempt(i + 1, tried.Key.Name, tried.Version, tried.Failure, tried.UpstreamStatus, tried.Latency));
        }
        return Math.Max(from, to);
    }

    private static TimeSpan Soonest(TimeSpan? soonest, TimeSpan wait) => soonest is { } known && known <= wait ? known : wait;

    private static string? FailureMessage(FuncKeyOpsError failure, int? upstreamStatus, ProviderKeyConfig key)
    {
        if (failure == FuncKeyOpsErrors.UpstreamError)
            return $"The provider failed with status {upstreamStatus}.";
        // The same code as for the platform's key (the audit sweep and SDK retry hints key on it), but the fix is the
        // tenant's own: its stored key, not the relay operator's.
        if (failure == FuncKeyOpsErrors.ProviderKeyRejected && key.Tenant is not null)
            return $"The provider refused the {key.Provider} key your tenant stored (status {upstreamStatus}); store a valid one (PUT /api/tenants/{{tenant}}/provider-keys/{key.Provider}).";
        return null;
    }

    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    /// <summary>A pool member's attempt that failed before the client's first byte, for its audit row.</summary>
    private readonly record struct FailedTry(ProviderKeyConfig Key, string Version, FuncKeyOpsError Failure, int? UpstreamStatus, TimeSpan Latency);
}
