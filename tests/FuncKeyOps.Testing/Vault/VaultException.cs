namespace FuncKeyOps.Testing.Vault;

/// <summary>
/// A failure the vault reports to the client in Key Vault's error shape. Messages name secrets and
/// versions only, never values, because these texts travel into client exceptions and logs.
/// </summary>
internal sealed class VaultException(int status, string code, string message, string? innerCode = null)
    : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public string? InnerCode { get; } = innerCode;

    private const string NotFoundHelp =
        " If you recently deleted this secret you may be able to recover it using the correct recovery command." +
        " For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182";

    public static VaultException SecretNotFound(string nameOrId) =>
        new(404, "SecretNotFound", $"A secret with (name/id) {nameOrId} was not found in this key vault." + NotFoundHelp);

    public static VaultException DeletedSecretNotFound(string name) =>
        new(404, "SecretNotFound", $"Deleted Secret not found: {name}");

    public static VaultException Disabled(string operation) =>
        new(403, "Forbidden", $"Operation {operation} is not allowed on a disabled secret.", "SecretDisabled");

    public static VaultException DeletedButRecoverable(string name) =>
        new(409, "Conflict",
            $"Secret {name} is currently in a deleted but recoverable state, and its name cannot be reused; " +
            "in this state, the secret can only be recovered or purged.");

    public static VaultException BadParameter(string message) => new(400, "BadParameter", message);
}
