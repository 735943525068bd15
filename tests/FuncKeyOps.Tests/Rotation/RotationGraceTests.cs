using System.Net;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Relay;
using FuncKeyOps.Rotation;
using FuncKeyOps.Secrets;
using FuncKeyOps.Tests.ProviderKeys;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>
/// The revoke grace of a rotation started through the admin API is never shorter than the staleness bound
/// (<see cref="ProviderKeyStaleness.Bound"/>, computed here from the host's own settings): a <c>holds</c> override
/// shortens the holds only, and one longer than the bound lengthens the grace too.
/// </summary>
public class RotationGraceTests
{
    [Fact]
    public async Task A_tiny_holds_override_shortens_the_holds_but_the_stored_revoke_grace_stays_the_staleness_bound()
    {
        await using var host = await RotationHost.StartAsync();
        var bound = Bound(host);
        var name = await host.RegisterKeyAsync();

        var plan = await StartAsync(host, name, "blue-green", "PT0.0000001S");

        Assert.Equal(TimeSpan.FromTicks(1), plan.WaitAfter(1)); // blue-green's hold after validation
        Assert.Equal(bound, Assert.Single(plan.Steps, s => s.Kind == RotationStepKind.Revoke).Grace);
        Assert.Equal(bound, plan.WaitAfter(2)); // the shift to 100 % waits the grace before the revoke
    }

    [Fact]
    public async Task A_holds_override_longer_than_the_staleness_bound_is_the_grace_too()
    {
        await using var host = await RotationHost.StartAsync();
        var longer = Bound(host) + TimeSpan.FromHours(1);
        var name = await host.RegisterKeyAsync();

        var plan = await StartAsync(host, name, "canary", System.Xml.XmlConvert.ToString(longer));

        Assert.All(plan.Steps.Where(s => s.Hold is not null), s => Assert.Equal(longer, s.Hold));
        Assert.Equal(longer, Assert.Single(plan.Steps, s => s.Kind == RotationStepKind.Revoke).Grace);
    }

    private static TimeSpan Bound(RotationHost host) => ProviderKeyStaleness.Bound(
        host.Services.GetRequiredService<IOptions<ProviderKeyOptions>>().Value,
        host.Services.GetRequiredService<IOptions<SecretCacheOptions>>().Value,
        host.Services.GetRequiredService<IOptions<RelayOptions>>().Value);

    private static async Task<RotationPlan> StartAsync(RotationHost host, string name, string strategy, string holds)
    {
        var (response, body) = await ProviderKeyCalls.AdminAsync(host.Relay, HttpMethod.Post, $"provider-keys/{name}/rotations",
            new { strategy, reason = "drill", holds });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await host.Store.GetAsync(name, body.GetProperty("id").GetString()!))!.Plan;
    }
}
