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
/// webhook URLs do (so tests can look for it in logs). <see cref="Down"/> makes it answer 503, as a webhook in an outage;
/// <see cref="Hold"/> makes it hang, as a webhook that takes longer than anyone would wait.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<JsonElement> _posts = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _kinds = new();
    private TaskCompletionSource? _held;

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

    /// <summary>From now on every request waits, unanswered and unrecorded, until <see cref="Release"/>.</summary>
    public void Hold() => Volatile.Write(ref _held, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Lets the held requests (and later ones) through.</summary>
    public void Release() => Interlocked.Exchange(ref _held, null)?.TrySetResult();

    /// <summary>Completes when an alert of <paramref name="kind"/> has been received (recorded in <see cref="Posts"/>).</summary>
    public Task ReceivedAsync(string kind) => KindSignal(kind).Task;

    private TaskCompletionSource KindSignal(string kind) =>
        _kinds.GetOrAdd(kind, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

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
            if (Volatile.Read(ref receiver._held) is { } held)
                await held.Task;
            if (receiver.Down)
                return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
            var body = await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.Body);
            receiver._posts.Enqueue(body);
            if (body.TryGetProperty("kind", out var kind) && kind.GetString() is { } name)
                receiver.KindSignal(name).TrySetResult();
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
