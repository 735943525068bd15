using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Transforms;

// The baseline the relay is compared with: a bare reverse proxy on the relay's route and nothing else
// (no relay-key check, quota, body read, usage parsing or audit). It swaps the client's Authorization
// for the upstream key, as the relay does.
//   BareProxy --urls http://127.0.0.1:PORT --upstream http://127.0.0.1:UPSTREAM --key KEY
string? upstream = null, key = Environment.GetEnvironmentVariable("BARE_PROXY_UPSTREAM_KEY");
for (var i = 0; i + 1 < args.Length; i++)
{
    switch (args[i])
    {
        case "--upstream": upstream = args[++i]; break;
        case "--key": key = args[++i]; break;
    }
}
if (upstream is null || string.IsNullOrEmpty(key))
{
    Console.Error.WriteLine("usage: BareProxy --urls URL --upstream URL --key KEY");
    return 2;
}

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
builder.Services.AddReverseProxy()
    .LoadFromMemory(
        [
            new RouteConfig
            {
                RouteId = "openai",
                ClusterId = "upstream",
                Match = new RouteMatch { Path = "/api/relay/openai/{**rest}" },
            }
            .WithTransformPathRouteValues("/{**rest}")
            .WithTransformRequestHeader("Authorization", "Bearer " + key, append: false),
        ],
        [
            new ClusterConfig
            {
                ClusterId = "upstream",
                Destinations = new Dictionary<string, DestinationConfig> { ["upstream"] = new() { Address = upstream } },
            },
        ]);

var app = builder.Build();
app.MapGet("/health", () => Results.Text("ok"));
app.MapReverseProxy();
await app.RunAsync();
return 0;
