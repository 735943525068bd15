using FuncKeyOps.Hosting;
using FuncKeyOps.Logging;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

// ASP.NET Core integration: HttpTriggers get the real HttpContext, so the library's handlers (and streaming) work unchanged.
var builder = FunctionsApplication.CreateBuilder(args);
// The front end cuts a response silent for 230 s: the relay's own waits stay under it (an operator's setting wins).
builder.Configuration.AddFunctionsHostDefaults();
builder.ConfigureFunctionsWebApplication();
builder.Services.AddFuncKeyOps(builder.Configuration);
builder.Services.AddSecretRedaction();
builder.Build().Run();
