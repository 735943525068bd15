using System.Globalization;
using FuncKeyOps.Alerts;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation.Schedule;
using FuncKeyOps.Secrets;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Rotation;

/// <summary>
/// The daily look at every registered provider key's age, shared by both hosts (the Server host's
/// <see cref="RotationScheduleService"/>, the Functions app's timer): a key whose active version is older than its
/// policy's <see cref="RotationPolicy.Period"/> gets a rotation with the policy's strategy and holds; one within the
/// <see cref="RotationPolicy.WarningWindow"/> of it gets a <c>key.rotation_due</c> alert, deduplicated per key and day.
/// Safe to run again at any time: a rotation already running is left alone, and a repeated alert has the same dedupe key.
/// </summary>
public sealed partial class RotationSchedule(
    ProviderKeyRegistry registry,
    ISecretStore secrets,
    IRotationStarter starter,
    IAlertSink alerts,
    TimeProvider time,
    ILogger<RotationSchedule> logger)
{
    public const string Trigger = "schedule";
    public const string Reason = "scheduled: past its rotation period";
    public const string DueAlertKind = "key.rotation_due";

    public async Task<ScheduleRun> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var keys = new List<ScheduledKey>();
        foreach (var config in await registry.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                keys.Add(await ReviewAsync(config, now, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // One key's vault or start failure must not keep the others from being looked at.
                LogKeyFailed(logger, config.Name, e);
                keys.Add(new ScheduledKey(config.Name, ScheduleAction.Failed));
            }
        }
        return new ScheduleRun(now, keys);
    }

    private async Task<ScheduledKey> ReviewAsync(ProviderKeyConfig config, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // A tenant's own key is the tenant's to replace: the platform can neither create nor revoke it at the provider.
        if (config.Tenant is not null)
            return new ScheduledKey(config.Name, ScheduleAction.Skipped);
        RotationPolicy policy;
        try
        {
            policy = RotationPolicy.Parse(config.Policy);
        }
        catch (FormatException e)
        {
            LogPolicyUnreadable(logger, config.Name, e.Message);
            return new ScheduledKey(config.Name, ScheduleAction.Skipped);
        }

        if (await ActiveVersionAsync(config, cancellationToken).ConfigureAwait(false) is not { CreatedOn: { } created } active)
            return new ScheduledKey(config.Name, ScheduleAction.Skipped);
        var age = now - created;

        if (age >= policy.Period)
        {
            var start = await starter.StartAsync(
                new RotationRequest(config.Name, policy.Strategy, Reason, policy.Holds, Trigger), cancellationToken).ConfigureAwait(false);
            return start.Outcome switch
            {
                RotationStartOutcome.Started => new ScheduledKey(config.Name, ScheduleAction.RotationStarted, age, start.Rotation),
                RotationStartOutcome.AlreadyRunning => new ScheduledKey(config.Name, ScheduleAction.AlreadyRotating, age, start.Rotation),
                _ => new ScheduledKey(config.Name, ScheduleAction.Skipped, age), // removed since it was listed
            };
        }

        if (age >= policy.Period - policy.WarningWindow)
        {
            await alerts.PublishAsync(DueAlert(config.Name, active.Version, created + policy.Period, now), cancellationToken).ConfigureAwait(false);
            return new ScheduledKey(config.Name, ScheduleAction.Warned, age);
        }
        return new ScheduledKey(config.Name, ScheduleAction.None, age);
    }

    /// <summary>
    /// The version serving: the one carrying the most routing weight, or (a key registered before weights existed) the
    /// newest tagged active. Its creation time is when it started to be exposed, which is what the period limits.
    /// </summary>
    private async Task<SecretVersionInfo?> ActiveVersionAsync(ProviderKeyConfig config, CancellationToken cancellationToken)
    {
        IReadOnlyList<SecretVersionInfo> versions;
        try
        {
            versions = await secrets.ListVersionsAsync(config.SecretName, cancellationToken).ConfigureAwait(false);
        }
        catch (SecretNotFoundException)
        {
            return null;
        }
        var weighted = versions
            .Where(v => config.Weights.GetValueOrDefault(v.Version) > 0)
            .MaxBy(v => config.Weights[v.Version]);
        return weighted ?? versions.Where(v => v.State == SecretVersionState.Active).MaxBy(v => v.CreatedOn);
    }

    private static Alert DueAlert(string keyName, string version, DateTimeOffset dueOn, DateTimeOffset now)
    {
        var day = now.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var due = dueOn.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return new Alert(
            DueAlertKind,
            keyName,
            $"Provider key '{keyName}' reaches its rotation period on {due}; the daily schedule rotates it then.",
            $"{DueAlertKind}:{keyName}:{day}",
            now,
            new Dictionary<string, string> { ["version"] = version, ["dueOn"] = due });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rotation schedule skipped provider key {ProviderKeyName}: its policy cannot be read ({Problem})")]
    private static partial void LogPolicyUnreadable(ILogger logger, string providerKeyName, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "Rotation schedule could not review provider key {ProviderKeyName}; the next run tries again")]
    private static partial void LogKeyFailed(ILogger logger, string providerKeyName, Exception exception);
}
