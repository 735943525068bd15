namespace FuncKeyOps.Admin;

public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>
    /// Key Vault secret holding the admin key that callers send in <c>x-fko-admin-key</c>. Read through the secret
    /// cache, so after a rotation the previous key keeps working until the cache refreshes (Secrets:Cache).
    /// </summary>
    public string KeySecretName { get; set; } = "fko-admin-key";
}
