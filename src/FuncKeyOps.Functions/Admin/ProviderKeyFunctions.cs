using FuncKeyOps.ProviderKeys;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace FuncKeyOps.Functions.Admin;

public sealed class ProviderKeyFunctions
{
    private const string Keys = ManageRoutes.Prefix + "provider-keys";

    [Function("ProviderKeysList")]
    public Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Function, "get", Route = Keys)] HttpRequest request) =>
        AdminTrigger.RunAsync(request, ProviderKeyAdminHandlers.ListAsync);

    [Function("ProviderKeysGet")]
    public Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Function, "get", Route = Keys + "/{name}")] HttpRequest request, string name) =>
        AdminTrigger.RunAsync(request, context => ProviderKeyAdminHandlers.GetAsync(context, name));

    [Function("ProviderKeysDelete")]
    public Task<IActionResult> Delete([HttpTrigger(AuthorizationLevel.Function, "delete", Route = Keys + "/{name}")] HttpRequest request, string name) =>
        AdminTrigger.RunAsync(request, context => ProviderKeyAdminHandlers.DeleteAsync(context, name));

    [Function("ProviderKeysRegister")]
    public Task<IActionResult> Register([HttpTrigger(AuthorizationLevel.Function, "put", Route = Keys + "/{name}")] HttpRequest request, string name) =>
        AdminTrigger.RunAsync(request, context => ProviderKeyAdminHandlers.RegisterAsync(context, name));

    [Function("ProviderKeysStageVersion")]
    public Task<IActionResult> StageVersion([HttpTrigger(AuthorizationLevel.Function, "post", Route = Keys + "/{name}/versions")] HttpRequest request, string name) =>
        AdminTrigger.RunAsync(request, context => ProviderKeyAdminHandlers.StageVersionAsync(context, name));

    [Function("ProviderKeysActivateVersion")]
    public Task<IActionResult> ActivateVersion([HttpTrigger(AuthorizationLevel.Function, "post", Route = Keys + "/{name}/versions/{version}/activate")] HttpRequest request, string name, string version) =>
        AdminTrigger.RunAsync(request, context => ProviderKeyAdminHandlers.ActivateVersionAsync(context, name, version));
}
