namespace FuncKeyOps.Hosting;

/// <summary>Who may call a route, and so the Azure Functions authorization level its trigger must have.</summary>
public enum RouteAccess
{
    /// <summary>No credential (health). Functions level Anonymous.</summary>
    Anonymous,

    /// <summary>A relay key, checked by the library. Functions level Anonymous: apps hold no function key.</summary>
    Relay,

    /// <summary>The admin key, checked by <see cref="Admin.AdminEndpoint"/>; on Azure Functions a function key too.</summary>
    Admin,

    /// <summary>
    /// The admin key, or a relay key of the route's tenant carrying the <c>byok</c> scope, both checked by
    /// <see cref="Tenants.TenantGate"/> behind the admin gate. Functions level Anonymous: tenants hold no function key.
    /// </summary>
    Tenant,
}
