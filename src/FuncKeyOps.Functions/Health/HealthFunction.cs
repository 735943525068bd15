using FuncKeyOps.Health;
using FuncKeyOps.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace FuncKeyOps.Functions.Health;

public sealed class HealthFunction
{
    [Function("Health")]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Routes.Health)] HttpRequest request)
    {
        await HealthEndpoint.WriteAsync(request.HttpContext);
        return new EmptyResult();
    }
}
