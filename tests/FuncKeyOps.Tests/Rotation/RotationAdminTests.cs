using System.Net;
using System.Text.Json;
using FuncKeyOps.Rotation;
using FuncKeyOps.Tests.ProviderKeys;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Rotation;

public class RotationAdminTests
{
    private static Task<(HttpResponseMessage Response, JsonElement Body)> CallAsync(RotationHost host, HttpMethod method, string path, object? body = null) =>
        ProviderKeyCalls.AdminAsync(host.Relay, method, path, body);

    private static string Code(JsonElement body) => body.GetProperty("error").GetProperty("code").GetString()!;

    [Fact]
    public async Task Start_read_and_abort_a_rotation_through_the_admin_api()
    {
        await using var host = await RotationHost.StartAsync();
        var name = await host.RegisterKeyAsync();

        var (started, body) = await CallAsync(host, HttpMethod.Post, $"provider-keys/{name}/rotations", new { strategy = "canary", reason = "drill", holds = "PT1S" });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        Assert.Equal("Running", body.GetProperty("status").GetString());
        var id = body.GetProperty("id").GetString()!;
        var rotation = new RotationId(name, id);
        Assert.Equal([rotation], host.Driver.Scheduled);
        var record = (await host.Store.GetAsync(name, id))!;
        Assert.All(record.Plan.Steps.Where(s => s.Hold is not null), s => Assert.Equal(TimeSpan.FromSeconds(1), s.Hold));
        Assert.Equal(host.Services.GetRequiredService<RotationService>().Grace, record.Plan.Steps[^2].Grace); // holds never shorten the grace

        for (var index = 0; index < 3; index++) // create, validate, shift 1 %
            await host.Runner.RunStepAsync(rotation, index, CancellationToken.None);
        var (read, status) = await CallAsync(host, HttpMethod.Get, $"rotations/{name}/{id}");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal("Running", status.GetProperty("status").GetString());
        Assert.Equal("canary", status.GetProperty("strategy").GetString());
        Assert.Equal(3, status.GetProperty("stepsDone").GetInt32());
        Assert.Equal(1, status.GetProperty("weights").GetProperty(status.GetProperty("newVersion").GetString()!).GetInt32());
        Assert.True(status.TryGetProperty("nextDue", out _));
        Assert.DoesNotContain("fake-", status.GetRawText()); // never a key value

        var (abort, aborted) = await CallAsync(host, HttpMethod.Post, $"rotations/{name}/{id}/abort");
        Assert.Equal(HttpStatusCode.Accepted, abort.StatusCode);
        Assert.True(aborted.GetProperty("abortRequested").GetBoolean());
        Assert.Equal([rotation], host.Driver.Signalled);
        Assert.Equal(RotationStatus.Aborted, (await host.Runner.RunStepAsync(rotation, 3, CancellationToken.None)).Status);

        var (again, conflict) = await CallAsync(host, HttpMethod.Post, $"rotations/{name}/{id}/abort");
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("conflict", Code(conflict));
        var (final, finalStatus) = await CallAsync(host, HttpMethod.Get, $"rotations/{name}/{id}");
        Assert.Equal("Aborted", finalStatus.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_second_start_while_one_runs_is_409_naming_the_running_rotation_and_deleting_the_key_is_refused()
    {
        await using var host = await RotationHost.StartAsync();
        var name = await host.RegisterKeyAsync();
        var (_, first) = await CallAsync(host, HttpMethod.Post, $"provider-keys/{name}/rotations", new { strategy = "immediate", reason = "one" });
        var id = first.GetProperty("id").GetString()!;
        host.Driver.Running[name] = true;

        var (second, body) = await CallAsync(host, HttpMethod.Post, $"provider-keys/{name}/rotations", new { strategy = "canary", reason = "two" });
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal([new RotationId(name, id)], host.Driver.Scheduled); // a driven rotation is left alone
        Assert.Equal("rotation_running", Code(body));
        Assert.Contains(id, body.GetProperty("error").GetProperty("message").GetString());
        var (delete, refused) = await CallAsync(host, HttpMethod.Delete, $"provider-keys/{name}");
        Assert.Equal(HttpStatusCode.Conflict, delete.StatusCode);
        Assert.Equal("rotation_running", Code(refused));

        // The driver lost it (a host stopped between the row and the schedule): the next start hands it over again.
        host.Driver.Running[name] = false;
        var (lost, _) = await CallAsync(host, HttpMethod.Post, $"provider-keys/{name}/rotations", new { strategy = "canary", reason = "two" });
        Assert.Equal(HttpStatusCode.Conflict, lost.StatusCode);
        Assert.Equal([new RotationId(name, id), new RotationId(name, id)], host.Driver.Scheduled);

        Assert.Equal(RotationStatus.Succeeded, await host.DriveAsync(new RotationId(name, id)));
        var (third, _) = await CallAsync(host, HttpMethod.Post, $"provider-keys/{name}/rotations", new { strategy = "immediate", reason = "three" });
        Assert.Equal(HttpStatusCode.Accepted, third.StatusCode);
    }

    [Fact]
    public async Task A_start_the_driver_still_runs_is_409_even_when_the_store_has_none()
    {
        await using var host = await RotationHost.StartAsync();
        var name = await host.RegisterKeyAsync();
        host.Driver.Running[name] = true;

        var (response, body) = await CallAsync(host, HttpMethod.Post, $"provider-keys/{name}/rotations", new { strategy = "immediate", reason = "x" });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("rotation_running", Code(body));
        Assert.Null(await host.Store.GetUnfinishedAsync(name));
    }

    [Fact]
    public async Task Concurrent_starts_of_one_key_start_exactly_one_rotation()
    {
        await using var host = await RotationHost.StartAsync();
        var name = await host.RegisterKeyAsync();
        var starter = (IRotationStarter)host.Services.GetService(typeof(IRotationStarter))!;

        var starts = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            starter.StartAsync(new RotationRequest(name, RotationStrategy.Immediate, "race"), CancellationToken.None)));

        var winner = Assert.Single(starts, s => s.Outcome == RotationStartOutcome.Started);
        Assert.All(starts.Where(s => s != winner), s => Assert.Equal(RotationStartOutcome.AlreadyRunning, s.Outcome));
        Assert.Equal(winner.Rotation!.Value.Id, (await host.Store.GetUnfinishedAsync(name))!.Id);
    }

    [Theory]
    [InlineData("nope", """{"strategy":"canary","reason":"x"}""", HttpStatusCode.NotFound, "not_found")]
    [InlineData(null, """{"strategy":"sideways","reason":"x"}""", HttpStatusCode.BadRequest, "invalid_request")]
    [InlineData(null, """{"strategy":"canary","reason":"x","holds":"1s"}""", HttpStatusCode.BadRequest, "invalid_request")]
    [InlineData(null, """{"strategy":"canary","reason":"x","holds":"PT0S"}""", HttpStatusCode.BadRequest, "invalid_request")]
    [InlineData(null, """{"strategy":"canary"}""", HttpStatusCode.BadRequest, "invalid_request")]
    [InlineData(null, """{"strategy":"canary","reason":"x","colour":"red"}""", HttpStatusCode.BadRequest, "invalid_request_body")]
    public async Task Bad_starts_are_refused_with_the_admin_error_shape(string? key, string json, HttpStatusCode expected, string code)
    {
        await using var host = await RotationHost.StartAsync();
        var name = key ?? await host.RegisterKeyAsync();
        using var request = ProviderKeyCalls.Admin(HttpMethod.Post, $"provider-keys/{name}/rotations");
        request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");

        using var response = await host.Relay.Client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(code, Code(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement));
        Assert.Empty(host.Driver.Scheduled);
    }

    [Fact]
    public async Task Reading_or_aborting_an_unknown_rotation_is_404()
    {
        await using var host = await RotationHost.StartAsync();
        var name = await host.RegisterKeyAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await CallAsync(host, HttpMethod.Get, $"rotations/{name}/20260101T000000000Z-abcdef")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await CallAsync(host, HttpMethod.Post, $"rotations/{name}/20260101T000000000Z-abcdef/abort")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await CallAsync(host, HttpMethod.Get, $"rotations/{name}/~current")).Response.StatusCode);
    }
}
