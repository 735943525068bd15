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
}
