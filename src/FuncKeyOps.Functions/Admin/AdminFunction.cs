using FuncKeyOps.Admin;
using FuncKeyOps.Functions.Rotation;
using FuncKeyOps.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace FuncKeyOps.Functions.Admin;

/// <summary>
/// The whole admin API as one trigger: a function key at the Functions level, then the library's route table
/// (every method here; the table answers 404/405 for what it lacks), its admin-key gate and handler. Its Durable
/// client is what the rotation routes (start, status, abort) reach the orchestrations with.
/// </summary>
public sealed class AdminFunction(DurableClientSource durableClients)
{
    [Function("Manage")]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, Route = Routes.ManageTrigger)] HttpRequest request,
        string? path,
        [DurableClient] DurableTaskClient durable)
    {
        durableClients.Use(durable);
        await AdminDispatcher.DispatchAsync(request.HttpContext, path);
        return new EmptyResult();
    }
}
