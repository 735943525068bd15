using FuncKeyOps.Hosting;
using FuncKeyOps.Relay;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace FuncKeyOps.Functions.Relay;

/// <summary>
/// Every method, as the Server host relays them; Anonymous at the Functions level: the relay key is the
/// credential, checked by the library.
/// </summary>
public sealed class RelayFunction(RelayHandler relay)
{
    [Function("Relay")]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, Route = Routes.Relay)] HttpRequest request,
        string provider,
        string? path)
    {
        await relay.HandleAsync(request.HttpContext, provider, path);
        return new EmptyResult();
    }
}
