using FuncKeyOps.Audit;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace FuncKeyOps.Functions.Admin;

public sealed class AuditFunctions
{
    [Function("AuditQuery")]
    public Task<IActionResult> Query([HttpTrigger(AuthorizationLevel.Function, "get", Route = ManageRoutes.Prefix + "audit")] HttpRequest request) =>
        AdminTrigger.RunAsync(request, AuditAdminHandlers.QueryAsync);
}
