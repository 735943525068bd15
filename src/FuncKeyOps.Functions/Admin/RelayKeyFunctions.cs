using FuncKeyOps.ClientKeys;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace FuncKeyOps.Functions.Admin;

/// <summary>Relay key admin calls: function-level keys in Azure, plus the admin key the library checks.</summary>
public sealed class RelayKeyFunctions
{
    private const string Keys = ManageRoutes.Prefix + "relay-keys";

    [Function("RelayKeysCreate")]
    public Task<IActionResult> Create([HttpTrigger(AuthorizationLevel.Function, "post", Route = Keys)] HttpRequest request) =>
        AdminTrigger.RunAsync(request, RelayKeyAdminHandlers.CreateAsync);

    [Function("RelayKeysList")]
    public Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Function, "get", Route = Keys)] HttpRequest request) =>
        AdminTrigger.RunAsync(request, RelayKeyAdminHandlers.ListAsync);

    [Function("RelayKeysGet")]
    public Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Function, "get", Route = Keys + "/{id}")] HttpRequest request, string id) =>
        AdminTrigger.RunAsync(request, context => RelayKeyAdminHandlers.GetAsync(context, id));

    [Function("RelayKeysUpdate")]
    public Task<IActionResult> Update([HttpTrigger(AuthorizationLevel.Function, "patch", Route = Keys + "/{id}")] HttpRequest request, string id) =>
        AdminTrigger.RunAsync(request, context => RelayKeyAdminHandlers.UpdateAsync(context, id));

    [Function("RelayKeysSuspend")]
    public Task<IActionResult> Suspend([HttpTrigger(AuthorizationLevel.Function, "post", Route = Keys + "/{id}/suspend")] HttpRequest request, string id) =>
        AdminTrigger.RunAsync(request, context => RelayKeyAdminHandlers.SuspendAsync(context, id));

    [Function("RelayKeysResume")]
    public Task<IActionResult> Resume([HttpTrigger(AuthorizationLevel.Function, "post", Route = Keys + "/{id}/resume")] HttpRequest request, string id) =>
        AdminTrigger.RunAsync(request, context => RelayKeyAdminHandlers.ResumeAsync(context, id));

    [Function("RelayKeysRevoke")]
    public Task<IActionResult> Revoke([HttpTrigger(AuthorizationLevel.Function, "delete", Route = Keys + "/{id}")] HttpRequest request, string id) =>
        AdminTrigger.RunAsync(request, context => RelayKeyAdminHandlers.RevokeAsync(context, id));
}
