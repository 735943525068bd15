using FuncKeyOps.Admin;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace FuncKeyOps.Functions.Admin;

/// <summary>
/// The Functions host reserves every route starting with "admin" for its own admin API, so the admin calls
/// live under /api/manage here (the Server host serves both /api/admin and /api/manage).
/// </summary>
internal static class ManageRoutes
{
    public const string Prefix = "manage/";
}

/// <summary>Every admin trigger: the library's admin-key gate, then the library's handler.</summary>
internal static class AdminTrigger
{
    public static async Task<IActionResult> RunAsync(HttpRequest request, Func<HttpContext, Task> handler)
    {
        await AdminEndpoint.RunAsync(request.HttpContext, handler);
        return new EmptyResult();
    }
}
