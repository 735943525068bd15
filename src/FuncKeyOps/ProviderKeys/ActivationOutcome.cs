namespace FuncKeyOps.ProviderKeys;

public enum ActivationOutcome
{
    /// <summary>The version now carries all routing weight and is tagged active.</summary>
    Activated,

    /// <summary>It already was, with every earlier active version tagged previous: nothing was written.</summary>
    AlreadyActive,

    KeyNotFound,
    VersionNotFound,

    /// <summary>Disabled in the vault, or revoked: it may not serve again.</summary>
    VersionUnusable,

    /// <summary>The provider refused the value; nothing was written.</summary>
    Rejected,

    /// <summary>
    /// The key has a rotation that has not finished: it owns the weights and will revoke the version it replaces, so
    /// an activation by hand (a manual rollback during its grace) is refused rather than raced; abort the rotation first.
    /// </summary>
    RotationRunning,

    /// <summary>The provider could not be asked, or gave an answer that says nothing about the key; nothing was written.</summary>
    ValidationFailed,
}
