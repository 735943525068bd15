namespace FuncKeyOps.Admin;

public enum AdminAuthOutcome
{
    Authorized,
    /// <summary>No <c>x-fko-admin-key</c> header.</summary>
    Missing,
    /// <summary>The header does not hold the admin key.</summary>
    Wrong,
    /// <summary>The admin key could not be read from Key Vault and none is cached (or a relay key could not be checked).</summary>
    Unavailable,
    /// <summary>A valid credential that may not make this call (tenant routes: another tenant's relay key, no byok scope).</summary>
    Forbidden,
    /// <summary>A valid credential over its own rate limit (tenant routes: the relay key's RPM or token budgets); answered 429.</summary>
    Limited,
}
