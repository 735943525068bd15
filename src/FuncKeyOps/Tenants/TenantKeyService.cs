using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation;
using FuncKeyOps.Secrets;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Tenants;

/// <summary>
/// Tenants' own provider keys (BYOK). A value is validated with the provider before anything is written; accepted, it
/// goes to Key Vault only (a secret per tenant and provider, <see cref="TenantKeyNames"/>), registered as a provider key
/// with <see cref="ProviderKeyConfig.Tenant"/> set, so resolver, audit, usage and rotation treat it as any provider key.
/// A new value serves at once (validated, then activated: weights 100); the one it replaces is revoked after the grace
/// by a rotation (<see cref="RotationService.StartRevokeAsync"/>), which survives restarts and runs in either host.
/// </summary>
public sealed partial class TenantKeyService(
    ProviderKeyRegistry registry,
    ProviderKeyValidator validator,
    ProviderKeyStaging staging,
    ProviderKeyActivation activation,
    ISecretStore store,
    SecretCache secrets,
    RotationService rotations,
    RotationStore rotationRows,
    TenantStore tenants,
    TenantKeyDirectory directory,
    TenantKeyUsage usage,
    TimeProvider time,
    ILogger<TenantKeyService> logger)
{
    /// <summary>The hint is the value's last characters: this many, and only of values long enough that it reveals little.</summary>
    public const int HintLength = 4;
    private const int MinLengthForHint = 12;
    private const string Trigger = "tenant";

    /// <summary>
    /// How long a PUT's claim holds: well past the admin call's own bound (<c>Admin:StorageTimeout</c>) so that only a
    /// PUT that stopped loses it, and short, since another PUT of the key waits (409) until then.
    /// </summary>
    internal static readonly TimeSpan ClaimLease = TimeSpan.FromMinutes(1);

    // 1 once this process has finished the replacements stopped PUTs left (RecoverAsync).
    private int _recovered;

    // The writes of a PUT, as AfterWrite names them.
    internal const string Staged = "staged";
    internal const string Activated = "activated";
    internal const string RevokeStarted = "revoke-started";

    /// <summary>Test hook: awaited after each named write of a PUT, so a test can hold one there (a race) or stop it (a crash).</summary>
    internal Func<string, string, Task>? AfterWrite { get; set; }

    /// <summary>
    /// Writes, in this order, each one a re-run repeats harmlessly: (0) the claim (one PUT per tenant and provider at a
    /// time: two at once would each replace a value, and only one revoke waits per key), (1) the registration (weights
    /// kept), (2) the value as a pending version, (3) its activation (all weight to it, the old version tagged previous),
    /// (4) the old version's revoke, scheduled after the grace, (5) the tenant's row (hint, time), then the claim is
    /// released. A crash before (3) leaves traffic where it was; a PUT again finishes the job with a new version. A crash
    /// after (3) leaves the claim: the host's next start, or the next PUT once the claim's lease is over, starts (4)
    /// (<see cref="FinishReplacementAsync"/>).
    /// </summary>
    public async Task<TenantKeyStoreResult> StoreAsync(string tenant, string provider, string value, CancellationToken cancellationToken)
    {
        await RecoverOnceAsync(cancellationToken).ConfigureAwait(false);
        var name = TenantKeyNames.KeyName(tenant, provider);
        var all = await registry.ListAsync(cancellationToken).ConfigureAwait(false);
        var existing = all.FirstOrDefault(c => c.Name == name && c.Tenant == tenant);
        // The tenant's key goes where the platform's key for the provider goes: a tenant never names an upstream.
        var upstream = existing?.BaseUrl ?? ProviderKeyRegistry.DefaultOf(all.Where(c => c.Provider == provider))?.BaseUrl;
        if (upstream is null)
            return new TenantKeyStoreResult(TenantKeyStoreOutcome.NoUpstream);
        var config = new ProviderKeyConfig
        {
            Name = name,
            Provider = provider,
            BaseUrl = upstream,
            SecretName = name,
            Connector = TenantKeyConnector.ConnectorName,
            Tenant = tenant,
        };

        var validation = await validator.ValidateAsync(config, value, cancellationToken).ConfigureAwait(false);
        switch (validation.Verdict)
        {
            case ProviderKeyVerdict.Rejected:
                return new TenantKeyStoreResult(TenantKeyStoreOutcome.Rejected, validation.Status);
            case ProviderKeyVerdict.Unreachable:
                return new TenantKeyStoreResult(TenantKeyStoreOutcome.Unreachable);
            case ProviderKeyVerdict.Inconclusive:
                return new TenantKeyStoreResult(TenantKeyStoreOutcome.Inconclusive, validation.Status);
        }
        if (await tenants.TryClaimAsync(tenant, provider, time.GetUtcNow(), ClaimLease, cancellationToken).ConfigureAwait(false) is not { } claim)
            return new TenantKeyStoreResult(TenantKeyStoreOutcome.InProgress);
        // A replacement an earlier PUT left unfinished (it stopped after its activation) is finished first.
        await FinishReplacementAsync(name, cancellationToken).ConfigureAwait(false);
        // One revoke waits at a time: a second replacement now would leave the value in between never revoked. Checked
        // under the claim, so no other PUT can start one between this check and this PUT's own.
        if (await rotationRows.GetUnfinishedAsync(name, cancellationToken).ConfigureAwait(false) is not null)
        {
            await tenants.ReleaseClaimAsync(tenant, provider, claim, cancellationToken).ConfigureAwait(false);
            return new TenantKeyStoreResult(TenantKeyStoreOutcome.RevokePending);
        }

        var (_, registered) = await registry.RegisterAsync(config, cancellationToken: cancellationToken).ConfigureAwait(false);
        await staging.PinServingVersionAsync(registered, cancellationToken).ConfigureAwait(false);
        var stored = await store.SetAsync(name, value,
            new Dictionary<string, string> { [SecretTags.State] = SecretVersionState.Pending.ToTag() }, cancellationToken).ConfigureAwait(false);
        await WroteAsync(name, Staged).ConfigureAwait(false);
        var activated = await activation.ActivateValidatedAsync(registered, stored.Version, validation, cancellationToken).ConfigureAwait(false);
        if (activated.Outcome is not (ActivationOutcome.Activated or ActivationOutcome.AlreadyActive))
            throw new InvalidOperationException($"The tenant key '{name}' was removed while its new value was activated.");
        await WroteAsync(name, Activated).ConfigureAwait(false);
        var previous = activated.Previous ?? [];
        var replaced = previous.Count > 0;
        // Activation tagged previous the version that served: its revoke waits here.
        await FinishReplacementAsync(name, cancellationToken).ConfigureAwait(false);
        await WroteAsync(name, RevokeStarted).ConfigureAwait(false);

        var record = new TenantKeyRecord(provider, Stored: true, Hint(value), time.GetUtcNow(), LastUsed: null);
        await tenants.SetKeyAsync(tenant, record, cancellationToken).ConfigureAwait(false);
        Changed(tenant, provider, name);
        await tenants.ReleaseClaimAsync(tenant, provider, claim, cancellationToken).ConfigureAwait(false);
        return new TenantKeyStoreResult(replaced ? TenantKeyStoreOutcome.Replaced : TenantKeyStoreOutcome.Created, validation.Status, record);
    }

    /// <summary>The tenant's key for the provider (metadata only), or null when it has none stored.</summary>
    public async Task<TenantKeyRecord?> GetAsync(string tenant, string provider, CancellationToken cancellationToken)
    {
        var record = await tenants.GetAsync(tenant, cancellationToken).ConfigureAwait(false);
        if (record?.Keys.GetValueOrDefault(provider) is not { Stored: true } key)
            return null;
        return await RegistrationAsync(tenant, provider, cancellationToken).ConfigureAwait(false) is null ? null : key;
    }

    /// <summary>
    /// Removes the tenant's key so no call can use it: (1) the registration (routing stops), (2) every vault version
    /// disabled and tagged revoked, (3) the tenant's row marked not stored (it still brings its own key for the
    /// provider). A waiting revoke is aborted. False when there was nothing to remove; a re-run after a crash finishes.
    /// </summary>
    public async Task<bool> DeleteAsync(string tenant, string provider, CancellationToken cancellationToken)
    {
        await RecoverOnceAsync(cancellationToken).ConfigureAwait(false);
        var name = TenantKeyNames.KeyName(tenant, provider);
        var record = await tenants.GetAsync(tenant, cancellationToken).ConfigureAwait(false);
        var registration = await RegistrationAsync(tenant, provider, cancellationToken).ConfigureAwait(false);
        if (record?.Keys.GetValueOrDefault(provider) is not { Stored: true } && registration is null)
            return false;
        if (await rotationRows.GetUnfinishedAsync(name, cancellationToken).ConfigureAwait(false) is { } waiting)
            await rotations.AbortAsync(waiting.RotationId, cancellationToken).ConfigureAwait(false);
        // A tenant's key is never a default, so only a concurrent write to its row makes the guarded delete decide again.
        while (await registry.GetAsync(name, cancellationToken).ConfigureAwait(false) is { } current
            && await registry.DeleteIfUnchangedAsync(current, cancellationToken).ConfigureAwait(false) is null)
        {
        }
        foreach (var version in await RotationStepRunner.VersionsAsync(store, name, cancellationToken).ConfigureAwait(false))
        {
            if (version.Enabled || version.State != SecretVersionState.Revoked)
                await store.UpdateAsync(name, version.Version, new SecretVersionUpdate(Enabled: false,
                    Tags: new Dictionary<string, string> { [SecretTags.State] = SecretVersionState.Revoked.ToTag() }), cancellationToken).ConfigureAwait(false);
        }
        await tenants.SetKeyAsync(tenant, new TenantKeyRecord(provider, Stored: false, null, null, null), cancellationToken).ConfigureAwait(false);
        Changed(tenant, provider, name);
        return true;
    }

    public async Task<TenantRecord> GetPolicyAsync(string tenant, CancellationToken cancellationToken) =>
        await tenants.GetAsync(tenant, cancellationToken).ConfigureAwait(false) ?? TenantRecord.None(tenant);

    public async Task SetPolicyAsync(string tenant, bool fallbackToPlatform, CancellationToken cancellationToken)
    {
        await tenants.SetPolicyAsync(tenant, fallbackToPlatform, cancellationToken).ConfigureAwait(false);
        directory.Invalidate(tenant);
    }

    /// <summary>
    /// Starts the revoke of a value a PUT replaced, when none is under way: a version tagged previous, still enabled, that
    /// carries no weight. Run by every PUT (before its own replacement and after its activation) and at start-up for the
    /// claims stopped PUTs left (<see cref="RecoverAsync"/>). Harmless beside a PUT under way elsewhere: the version it
    /// would revoke is the same, and starting a revoke twice starts one.
    /// </summary>
    internal async Task FinishReplacementAsync(string name, CancellationToken cancellationToken)
    {
        if (await rotationRows.GetUnfinishedAsync(name, cancellationToken).ConfigureAwait(false) is not null)
            return;
        if (await registry.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { Tenant: not null } config)
            return;
        var serving = config.Weights.Where(w => w.Value > 0).Select(w => w.Key).ToList();
        if (serving.Count != 1)
            return; // not one version serving: an activation is under way, and whoever runs it finishes it
        var replaced = (await RotationStepRunner.VersionsAsync(store, name, cancellationToken).ConfigureAwait(false))
            .Where(v => v.Enabled && v.State == SecretVersionState.Previous && v.Version != serving[0])
            .OrderBy(v => v.CreatedOn)
            .FirstOrDefault();
        if (replaced is not null)
            await rotations.StartRevokeAsync(name, replaced.Version, serving[0], "the tenant stored a new value", Trigger, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// At start-up: finishes the replacement of every key whose claim is stored (a PUT that stopped, or one under way
    /// elsewhere, which finishing does not disturb), and drops the claims past their lease.
    /// </summary>
    public async Task RecoverAsync(CancellationToken cancellationToken)
    {
        foreach (var claim in await tenants.ListClaimsAsync(cancellationToken).ConfigureAwait(false))
        {
            await FinishReplacementAsync(TenantKeyNames.KeyName(claim.Tenant, claim.Provider), cancellationToken).ConfigureAwait(false);
            if (claim.ClaimedAt is not { } since || since <= time.GetUtcNow() - ClaimLease)
                await tenants.ReleaseClaimAsync(claim.Tenant, claim.Provider, claim.ETag, cancellationToken).ConfigureAwait(false);
        }
    }

    // On the Functions host only a call holding a Durable client can start a revoke, so the first tenant call after a
    // start recovers there (the Server host's TenantKeyRecovery did at start; once more changes nothing). A failure is
    // the other keys' business: this call goes on, and the next one tries again.
    private async Task RecoverOnceAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _recovered) == 1)
            return;
        try
        {
            await RecoverAsync(cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _recovered, 1);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogRecoveryFailed(logger, e.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not finish tenants' key replacements left by stopped PUTs ({Failure}); the next tenant call tries again")]
    private static partial void LogRecoveryFailed(ILogger logger, string failure);

    private Task WroteAsync(string name, string write) => AfterWrite?.Invoke(name, write) ?? Task.CompletedTask;

    internal static string? Hint(string value) => value.Length >= MinLengthForHint ? value[^HintLength..] : null;

    private async Task<ProviderKeyConfig?> RegistrationAsync(string tenant, string provider, CancellationToken cancellationToken) =>
        await registry.GetAsync(TenantKeyNames.KeyName(tenant, provider), cancellationToken).ConfigureAwait(false) is { } config && config.Tenant == tenant
            ? config
            : null;

    // This instance routes by the change at once; others within the registry's and the directory's cache TTL.
    private void Changed(string tenant, string provider, string name)
    {
        directory.Invalidate(tenant);
        secrets.Invalidate(name);
        usage.Forget(tenant, provider);
    }
}
