using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Providers;

namespace FuncKeyOps.Routing;

// Placeholder until per-key ceilings are kept: every call is allowed.
internal sealed class UnlimitedProviderKeys : IProviderKeyLimiter
{
    public ValueTask<ProviderKeyLimitDecision> TryAcquireAsync(ProviderKeyConfig key, CancellationToken cancellationToken = default) => new(ProviderKeyLimitDecision.Allow);

    public void RecordUsage(ProviderKeyConfig key, TokenUsage usage)
    {
    }
}
