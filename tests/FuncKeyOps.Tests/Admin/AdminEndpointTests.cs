using System.Net;
using System.Text.Json;
using FuncKeyOps.Admin;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Tests.Admin;

public class AdminEndpointTests
{
    private sealed class Probe
    {
        private int _runs;
        public int Runs => _runs;

        public void Map(Microsoft.AspNetCore.Routing.RouteGroupBuilder admin) =>
            admin.MapGet("probe", (HttpContext c) => AdminEndpoint.RunAsync(c, h =>
            {
                Interlocked.Increment(ref _runs);
                return h.Response.WriteAsync("ran");
            }));
    }

    [Fact]
    public async Task The_handler_runs_only_for_the_admin_key()
    {
        var probe = new Probe();
        await using var app = await AdminApp.StartAsync(probe.Map);

        using (var response = await app.Client.GetAsync("/api/admin/probe"))
        {
            await AssertError(response, HttpStatusCode.Unauthorized, "unauthorized");
        }
        var wrongKey = "fake-admin-" + Guid.NewGuid().ToString("N");
        using (var response = await app.Client.SendAsync(app.Request(HttpMethod.Get, "/api/admin/probe", adminKey: wrongKey)))
        {
            var body = await AssertError(response, HttpStatusCode.Unauthorized, "unauthorized");
            Assert.DoesNotContain(wrongKey, body, StringComparison.Ordinal);
            Assert.DoesNotContain(app.AdminKey, body, StringComparison.Ordinal);
        }
        using (var response = await app.Client.SendAsync(app.Request(HttpMethod.Get, "/api/admin/probe", adminKey: app.AdminKey + "x")))
        {
            await AssertError(response, HttpStatusCode.Unauthorized, "unauthorized");
        }
        Assert.Equal(0, probe.Runs);

        using (var response = await app.Client.SendAsync(app.Request(HttpMethod.Get, "/api/admin/probe")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("ran", await response.Content.ReadAsStringAsync());
            Assert.True(response.Headers.CacheControl!.NoStore);
        }
        Assert.Equal(1, probe.Runs);
        Assert.DoesNotContain(app.AdminKey, app.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_vault_that_cannot_be_read_with_nothing_cached_is_503_not_401()
    {
        var probe = new Probe();
        await using var app = await AdminApp.StartAsync(probe.Map);
        await app.Vault.StopAsync();

        using var response = await app.Client.SendAsync(app.Request(HttpMethod.Get, "/api/admin/probe"));
        await AssertError(response, HttpStatusCode.ServiceUnavailable, "admin_key_unavailable");
        Assert.Equal(0, probe.Runs);

        // A missing header is refused without asking the vault at all.
        using var anonymous = await app.Client.GetAsync("/api/admin/probe");
        await AssertError(anonymous, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task A_cached_admin_key_keeps_working_while_the_vault_is_down()
    {
        var probe = new Probe();
        await using var app = await AdminApp.StartAsync(probe.Map);
        (await app.Client.SendAsync(app.Request(HttpMethod.Get, "/api/admin/probe"))).Dispose();
        await app.Vault.StopAsync();

        using var response = await app.Client.SendAsync(app.Request(HttpMethod.Get, "/api/admin/probe"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, probe.Runs);
    }

    [Fact]
    public async Task An_admin_key_absent_from_the_vault_is_503()
    {
        var probe = new Probe();
        await using var app = await AdminApp.StartAsync(probe.Map, seedAdminKey: false);

        using var response = await app.Client.SendAsync(app.Request(HttpMethod.Get, "/api/admin/probe"));
        await AssertError(response, HttpStatusCode.ServiceUnavailable, "admin_key_unavailable");
        Assert.Equal(0, probe.Runs);
    }

    /// <summary>
    /// A store that answers just as the admin call's bound runs out (seen on a loaded machine: a rotation started, then
    /// 503 with the start's own body in front of the error's): the change is made, so its answer is what the caller
    /// gets, whole. A 503 would have the caller retry a change already made (a second relay key, a 409).
    /// </summary>
    [Fact]
    public async Task An_answer_written_after_the_stores_bound_ran_out_is_the_handlers_whole_answer_not_a_503()
    {
        await using var app = await AdminApp.StartAsync(admin => admin.MapPost("slow-change", (HttpContext c) =>
            AdminEndpoint.RunAsync(c, async h =>
            {
                // The store's answer arrives as the bound runs out: wait for the bound itself, not a guess at its length.
                var boundRanOut = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                await using (h.RequestAborted.Register(boundRanOut.SetResult))
                    await boundRanOut.Task;
                await AdminJson.WriteAsync(h, StatusCodes.Status202Accepted, new { id = "r1", status = "Running" });
            })),
            extraSettings: new Dictionary<string, string?> { ["Admin:StorageTimeout"] = "00:00:01" });

        using var response = await app.Client.SendAsync(app.Request(HttpMethod.Post, "/api/admin/slow-change"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("""{"id":"r1","status":"Running"}""", await response.Content.ReadAsStringAsync());
    }

    internal static async Task<string> AssertError(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        var error = json.RootElement.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        return body;
    }
}
