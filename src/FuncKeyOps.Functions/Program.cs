using FuncKeyOps.Hosting;
using FuncKeyOps.Logging;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

// ASP.NET Core integration: HttpTriggers get the real HttpContext, so the library's handlers (and streaming) work unchanged.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddFuncKeyOps(builder.Configuration);
builder.Services.AddSecretRedaction();
builder.Build().Run();
