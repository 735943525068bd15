using FuncKeyOps.Hosting;
using FuncKeyOps.Logging;

namespace FuncKeyOps.Server;

/// <summary>Composition root of the self-hosted (container) deployment. Tests build the same app in-process.</summary>
public static class ServerApp
{
    /// <param name="configure">Runs before the logging providers are put behind redaction, so anything added there is redacted too.</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddFuncKeyOps(builder.Configuration);
        configure?.Invoke(builder);
        builder.Services.AddSecretRedaction();

        var app = builder.Build();
        app.MapFuncKeyOps();
        return app;
    }
}
