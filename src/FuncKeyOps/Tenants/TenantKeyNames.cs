using System.Security.Cryptography;
using System.Text;

namespace FuncKeyOps.Tenants;

/// <summary>
/// Names derived from a tenant's name, which may hold any character: Key Vault secret names allow only letters,
/// digits and '-', table keys forbid '/', '\', '#', '?'. A hash of the tenant keeps both safe and one name per
/// tenant and provider; the row keeps the tenant's own name, and readers check it, so a hash collision serves nobody.
/// </summary>
public static class TenantKeyNames
{
    /// <summary>The provider key (registration and vault secret) holding a tenant's own key for a provider: <c>byok-openai-3f2a…</c>.</summary>
    public static string KeyName(string tenant, string provider) => $"byok-{provider}-{Hash(tenant)[..24]}";

    /// <summary>The <c>tenants</c> table partition holding a tenant's policy and key rows.</summary>
    public static string Partition(string tenant) => Hash(tenant);

    private static string Hash(string tenant) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(tenant)));
}
