namespace FuncKeyOps.Admin;

public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>
    /// Key Vault secret holding the admin key that callers send in <c>x-fko-admin-key</c>. Read through the secret
    /// cache, so after a rotation the previous key keeps working until the cache refreshes (Secrets:Cache).
    /// </summary>
    public string KeySecretName { get; set; } = "fko-admin-key";

    /// <summary>
    /// Longest an admin call may wait on Table Storage and Key Vault together; then it answers 503 with Retry-After.
    /// Writing its admin event gets as long again. A hung store otherwise holds the call for the SDK's own network
    /// timeout (100 s per try, retried).
    /// </summary>
    public TimeSpan StorageTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
