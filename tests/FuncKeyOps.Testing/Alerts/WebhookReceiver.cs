using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Testing.Alerts;

/// <summary>
/// An alert webhook on 127.0.0.1: records every JSON body POSTed to its URL, whose path carries a token as real
/// webhook URLs do (so tests can look for it in logs). <see cref="Down"/> makes it answer 503, as a webhook in an outage.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<JsonElement> _posts = new();

    private WebhookReceiver(WebApplication app, string token)
    {
        _app = app;
        Token = token;
    }

    /// <summary>The secret part of <see cref="Url"/>.</summary>
    public string Token { get; }

    public Uri Url { get; private set; } = null!;

    public bool Down { get; set; }

    /// <summary>Bodies received while up, in arrival order.</summary>
    public IReadOnlyList<JsonElement> Posts => _posts.ToArray();

    public static async Task<WebhookReceiver> StartAsync()
    {
        var token = "hook-" + RandomNumberGenerator.GetHexString(32, lowercase: true);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, token);
        app.MapPost($"/hooks/{token}", async (HttpContext context) =>
        {
            if (receiver.Down)
                return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
            receiver._posts.Enqueue(await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.Body));
            return Results.NoContent();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        receiver.Url = new Uri($"{address}/hooks/{token}");
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
