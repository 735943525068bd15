using FuncKeyOps.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace FuncKeyOps.Functions.Health;

public sealed class HealthFunction
{
    [Function("Health")]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = HealthEndpoint.Route)] HttpRequest request)
    {
        await HealthEndpoint.WriteAsync(request.HttpContext);
        return new EmptyResult();
    }
}
