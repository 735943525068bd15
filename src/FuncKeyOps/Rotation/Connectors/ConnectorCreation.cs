namespace FuncKeyOps.Rotation.Connectors;

public enum ConnectorCreateOutcome
{
    /// <summary>A new key exists at the provider; <see cref="ConnectorCreation.Value"/> holds it (to go to Key Vault only).</summary>
    Created,
    /// <summary>The provider cannot create keys through an API: an operator stages the value (anthropic, manual).</summary>
    AwaitingOperator,
    /// <summary>The provider refused or could not be reached; <see cref="ConnectorCreation.Detail"/> says why, without secrets.</summary>
    Failed,
}

/// <param name="Value">The new key's value: written to Key Vault and nowhere else, never logged.</param>
/// <param name="ProviderKeyId">The provider's id for the new key, tagged on the vault version so revoke finds it.</param>
/// <param name="Transient">For <see cref="ConnectorCreateOutcome.Failed"/>: worth retrying (timeouts, 429, 5xx).</param>
public sealed record ConnectorCreation(ConnectorCreateOutcome Outcome, string? Value = null, string? ProviderKeyId = null, string? Detail = null, bool Transient = false)
{
    public override string ToString() => $"{Outcome} {ProviderKeyId} {Detail}"; // never the value
}

public enum ConnectorRevokeOutcome
{
    Revoked,
    AlreadyGone,
    Failed,
    /// <summary>The connector cannot revoke at the provider (manual): the vault version is disabled and an operator is alerted to delete the key.</summary>
    OperatorMustRevoke,
    /// <summary>Not asked of a connector: the step runner found the version carrying routing weight when it came to revoke it, and left it alone.</summary>
    StillServes,
}

/// <param name="Transient">For <see cref="ConnectorRevokeOutcome.Failed"/>: worth retrying.</param>
public sealed record ConnectorRevocation(ConnectorRevokeOutcome Outcome, string? Detail = null, bool Transient = false);
