using FuncKeyOps.Functions.Rotation;
using FuncKeyOps.Hosting;
using FuncKeyOps.Logging;
using FuncKeyOps.Rotation.Durable;
using FuncKeyOps.Rotation.Schedule;
using FuncKeyOps.Telemetry;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// ASP.NET Core integration: HttpTriggers get the real HttpContext, so the library's handlers (and streaming) work unchanged.
var builder = FunctionsApplication.CreateBuilder(args);
// The front end cuts a response silent for 230 s: the relay's own waits stay under it (an operator's setting wins).
builder.Configuration.AddFunctionsHostDefaults();
builder.ConfigureFunctionsWebApplication();
// The worker sends the host only the logs of a function invocation; what background services log (the audit
// writer's and quota flusher's warnings) would be lost. In Azure the worker ships every log, with the library's spans
// and metrics, to Application Insights itself over OpenTelemetry (host.json telemetryMode); AddSecretRedaction below
// wraps its logging provider like every other, and the worker's Logging:LogLevel settings decide what it gets.
builder.Services.AddFuncKeyOpsAzureMonitorExport(builder.Configuration, otel => otel.UseFunctionsWorkerDefaults());
// Locally (no Application Insights) the host's output is where logs are read: the host relays the worker's console.
if (string.IsNullOrEmpty(builder.Configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"]))
    builder.Logging.AddConsoleOutsideInvocations();
builder.Services.AddFuncKeyOps(builder.Configuration);
builder.Services.AddSecretRedaction();
// Rotations run as Durable orchestrations here; the driver reaches them through the triggers' bound client.
builder.Services.AddSingleton<DurableClientSource>();
builder.Services.AddDurableRotationDriver(sp => sp.GetRequiredService<DurableClientSource>().Client);
// The daily schedule runs from this app's timer trigger (the Server host runs it on Cronos instead).
builder.Services.AddRotationSchedule();
builder.Build().Run();
