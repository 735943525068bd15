using System.Net;
using System.Text.Json;
using FuncKeyOps.Admin;
using FuncKeyOps.Hosting;
using FuncKeyOps.Tests.Admin;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Tests.Hosting;

/// <summary>The admin API behind one catch-all route, as the Functions host serves it.</summary>
public class AdminDispatcherTests
{
    [Fact]
    public void Every_admin_route_is_found_for_its_path_and_method_with_its_values()
    {
        foreach (var route in Routes.Admin)
        {
            var path = RouteSamples.PathFor(route.Pattern);
            var found = AdminDispatcher.Match(route.Methods.Single(), path, out var values, out _);
            Assert.True(ReferenceEquals(route, found), $"{route}: {path} found {found}");
            Assert.Equal(route.Pattern.Parameters.Select(p => $"{p.Name}={p.Name}-1"), values.Select(v => $"{v.Key}={v.Value}"));
        }
    }

    [Fact]
    public async Task An_unknown_path_is_404_and_a_known_path_with_another_method_405_in_the_admin_error_shape()
    {
        var (status, body, allow) = await DispatchAsync("GET", "relay-keys/k1/explode");
        Assert.Equal((404, "not_found", ""), (status, body, allow));

        (status, body, allow) = await DispatchAsync("PUT", "relay-keys/k1");
        Assert.Equal((405, "method_not_allowed", "GET, PATCH, DELETE"), (status, body, allow));
    }

    [Fact]
    public async Task Admin_events_through_the_dispatcher_record_the_route_template_and_target_as_on_the_Server_host()
    {
        await using var app = await AdminApp.StartAsync(admin =>
            // Below a prefix of its own: the table's routes on the admin group would otherwise answer before it.
            admin.Map("/dispatch/{**path}", (HttpContext c, string? path) => AdminDispatcher.DispatchAsync(c, path)));

        string id;
        using (var created = await app.Client.SendAsync(app.Request(HttpMethod.Post, "/api/admin/dispatch/relay-keys",
            new StringContent("""{"tenant":"contoso","name":"checkout"}""", System.Text.Encoding.UTF8, "application/json"))))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            using var json = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
            id = json.RootElement.GetProperty("id").GetString()!;
        }
        using (var suspended = await app.Client.SendAsync(app.Request(HttpMethod.Post, $"/api/admin/dispatch/relay-keys/{id}/suspend")))
        {
            Assert.Equal(HttpStatusCode.OK, suspended.StatusCode);
        }

        var (events, _) = await app.Get<AdminEventStore>().PageAsync(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), 10, null, CancellationToken.None);
        Assert.Equal([$"POST relay-keys/{{id}}/suspend 200 {id}", $"POST relay-keys 201 {id}"],
            events.Select(e => $"{e.Method} {e.Route} {e.Status} {e.Target}"));
    }

    private static async Task<(int Status, string Code, string Allow)> DispatchAsync(string method, string path)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Response.Body = new MemoryStream();
        await AdminDispatcher.DispatchAsync(context, path);
        context.Response.Body.Position = 0;
        using var json = await JsonDocument.ParseAsync(context.Response.Body);
        return (context.Response.StatusCode, json.RootElement.GetProperty("error").GetProperty("code").GetString()!, context.Response.Headers.Allow.ToString());
    }
}
