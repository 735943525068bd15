namespace FuncKeyOps.Secrets;

public sealed class SecretNotFoundException(string name, string? version, Exception? inner = null)
    : SecretStoreException(version is null ? $"Secret '{name}' was not found." : $"Secret '{name}' version '{version}' was not found.", 404, inner);
