namespace FuncKeyOps.Admin;

public enum AdminAuthOutcome
{
    Authorized,
    /// <summary>No <c>x-fko-admin-key</c> header.</summary>
    Missing,
    /// <summary>The header does not hold the admin key.</summary>
    Wrong,
    /// <summary>The admin key could not be read from Key Vault and none is cached.</summary>
    Unavailable,
}
