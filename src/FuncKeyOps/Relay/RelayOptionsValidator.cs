using FuncKeyOps.RelayKeys;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Relay;

/// <summary>
/// <see cref="RelayOptions"/> at start-up, each failure naming its setting. A class rather than Validate lambdas
/// because a bad <c>Relay:TrustedProxies</c> entry needs the parser's own reason in the message.
/// </summary>
internal sealed class RelayOptionsValidator : IValidateOptions<RelayOptions>
{
    private const int MaxRetriesLimit = 10;
    private static readonly TimeSpan MaxStreamIdleTimeout = TimeSpan.FromDays(1);

    public ValidateOptionsResult Validate(string? name, RelayOptions options)
    {
        var failures = new List<string>();
        if (options.MaxRequestBodyBytes <= 0)
            failures.Add("Relay:MaxRequestBodyBytes must be positive.");
        if (options.UpstreamTimeout <= TimeSpan.Zero)
            failures.Add("Relay:UpstreamTimeout must be positive.");
        if (options.MaxRetries is < 0 or > MaxRetriesLimit)
            failures.Add($"Relay:MaxRetries must be from 0 to {MaxRetriesLimit}.");
        if (options.RetryBaseDelay <= TimeSpan.Zero)
            failures.Add("Relay:RetryBaseDelay must be positive.");
        if (options.MaxRetryAfter < TimeSpan.Zero)
            failures.Add("Relay:MaxRetryAfter must not be negative.");
        // A timer takes at most about 49 days; a day is already far past any stream a provider keeps open.
        if (options.StreamIdleTimeout <= TimeSpan.Zero || options.StreamIdleTimeout > MaxStreamIdleTimeout)
            failures.Add("Relay:StreamIdleTimeout must be positive and at most 1 day.");
        ValidateCircuit(options.Circuit, failures);
        for (var i = 0; i < options.TrustedProxies.Count; i++)
        {
            if (!IpAllowList.TryParse(options.TrustedProxies[i], out _, out var error))
                failures.Add($"Relay:TrustedProxies:{i}: {error}");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // Polly's own bounds (it would refuse these at the first pool call, far from the setting that caused it).
    private static void ValidateCircuit(MemberCircuitOptions circuit, List<string> failures)
    {
        if (circuit.FailureRatio is <= 0 or > 1 || double.IsNaN(circuit.FailureRatio))
            failures.Add("Relay:Circuit:FailureRatio must be above 0 and at most 1.");
        if (circuit.MinimumThroughput < 2)
            failures.Add("Relay:Circuit:MinimumThroughput must be at least 2.");
        if (circuit.SamplingDuration < MinCircuitDuration || circuit.SamplingDuration > MaxCircuitDuration)
            failures.Add("Relay:Circuit:SamplingDuration must be from 0.5 s to 1 day.");
        if (circuit.BreakDuration < MinCircuitDuration || circuit.BreakDuration > MaxCircuitDuration)
            failures.Add("Relay:Circuit:BreakDuration must be from 0.5 s to 1 day.");
        if (circuit.MaxBreakDuration < circuit.BreakDuration || circuit.MaxBreakDuration > MaxCircuitDuration)
            failures.Add("Relay:Circuit:MaxBreakDuration must be at least Relay:Circuit:BreakDuration and at most 1 day.");
    }

    private static readonly TimeSpan MinCircuitDuration = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxCircuitDuration = TimeSpan.FromDays(1);
}
