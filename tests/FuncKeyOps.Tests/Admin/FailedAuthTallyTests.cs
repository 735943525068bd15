using System.Net;
using FuncKeyOps.Admin;
using FuncKeyOps.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Admin;

/// <summary>
/// The tenant routes are anonymous on the Functions host, so anyone can fail their authentication: each failure must
/// not cost an admin event row and a warning, or the table and the logs grow at the rate of the attacker's choosing.
/// </summary>
public class FailedAuthTallyTests
{
    private const int Requests = 10_000;
    private static readonly IPAddress[] Sources = [IPAddress.Parse("203.0.113.1"), IPAddress.Parse("203.0.113.2"), IPAddress.Parse("2001:db8::7")];

    [Fact]
    public async Task Ten_thousand_bad_requests_on_the_tenant_route_make_one_counted_row_and_one_warning_per_source_and_minute_stored_by_shutdown()
    {
        await using var app = await AdminApp.StartAsync();
        var services = app.App.Services;
        var route = Routes.Tenant.Single(r => r.Answers("PUT"));
        var started = DateTimeOffset.UtcNow;

        // In-process through the gate both hosts run the route behind, to keep 10,000 calls quick.
        for (var i = 0; i < Requests; i++)
        {
            using var scope = services.CreateScope();
            var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
            context.Request.Method = i % 2 == 0 ? "PUT" : "GET";
            context.Request.RouteValues["tenant"] = "victim";
            context.Request.RouteValues["provider"] = "openai";
            if (i % 3 == 0)
                context.Request.Headers.Authorization = "Bearer fko_guess" + i; // else no credential at all
            if (i % 5 == 0)
                context.Request.Headers[AdminAuth.HeaderName] = "wrong-admin-key-" + i;
            context.Connection.RemoteIpAddress = Sources[i % Sources.Length];
            context.Response.Body = Stream.Null;
            await AdminEndpoint.RunAsync(context, route);
            Assert.Equal(StatusCodes.Status401Unauthorized, context.Response.StatusCode);
        }
        var ended = DateTimeOffset.UtcNow;
        // A graceful shutdown stores what is still counted in memory or being written.
        await app.App.StopAsync();

        // The calls may straddle a minute boundary: a row per source for each minute they touched.
        var minutes = (int)(Minute(ended) - Minute(started)).TotalMinutes + 1;
        var (events, _) = await services.GetRequiredService<AdminEventStore>()
            .PageAsync(started.AddMinutes(-1), ended.AddMinutes(1), AdminEventStore.MaxPageSize, null, CancellationToken.None);
        var failures = events.Where(e => e.Route == route.Template).ToList();
        Assert.InRange(failures.Count, Sources.Length, Sources.Length * minutes);
        Assert.Equal(Requests, failures.Sum(e => e.Count ?? 1));
        Assert.All(failures, e => Assert.Equal((401, "unauthorized"), (e.Status, e.ErrorCode)));
        Assert.Equal(Sources.Select(s => s.ToString()).Order(), failures.Select(e => e.SourceIp!).Distinct().Order());
        var warnings = app.Logs.Lines.Count(l => l.Contains("authentication failed", StringComparison.OrdinalIgnoreCase));
        Assert.InRange(warnings, Sources.Length, Sources.Length * minutes);
    }

    private static DateTimeOffset Minute(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
}
