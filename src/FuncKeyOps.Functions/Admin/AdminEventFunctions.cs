using FuncKeyOps.Admin;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace FuncKeyOps.Functions.Admin;

public sealed class AdminEventFunctions
{
    [Function("AdminEventsList")]
    public Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Function, "get", Route = ManageRoutes.Prefix + AdminEventHandlers.Route)] HttpRequest request) =>
        AdminTrigger.RunAsync(request, AdminEventHandlers.ListAsync);
}
