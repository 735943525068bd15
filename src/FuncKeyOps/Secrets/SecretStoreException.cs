namespace FuncKeyOps.Secrets;

/// <summary>A Key Vault call failed. Messages name the secret, never its value.</summary>
public class SecretStoreException : Exception
{
    public SecretStoreException(string message, int? status = null, Exception? inner = null) : base(message, inner) => Status = status;

    /// <summary>HTTP status from the vault, or null when it could not be reached.</summary>
    public int? Status { get; }

    /// <summary>True when the vault could not answer (network, 5xx, throttling): a cached value may stand in.</summary>
    public bool IsTransient => Status is null or 429 or >= 500;
}
