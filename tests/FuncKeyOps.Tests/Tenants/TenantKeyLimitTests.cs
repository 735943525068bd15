using System.Net;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Tenants;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Tenants;

/// <summary>
/// A byok relay key on the tenant routes is held to the limits the relay holds it to: its allowed source addresses,
/// its providers and its rate limit. A leaked key used from elsewhere must not reach the tenant's keys either.
/// </summary>
public class TenantKeyLimitTests
{
    [Fact]
    public async Task A_byok_key_is_refused_on_the_tenant_routes_from_outside_its_allowed_ips_for_another_provider_and_over_its_rpm()
    {
        // Inside one minute that never ends: the RPM window cannot roll over between the calls.
        var now = DateTimeOffset.UtcNow;
        var time = new FakeTimeProvider(new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 10, TimeSpan.Zero));
        await using var host = await RelayHost.StartAsync(time: time);
        var tenant = "limits-" + Guid.NewGuid().ToString("N")[..8];
        var value = "sk-tenant-" + Guid.NewGuid().ToString("N");
        host.OpenAI.AcceptKey(value);
        var (_, elsewhere) = await host.CreateRelayKeyAsync(new RelayKeySpec
        {
            Tenant = tenant, Name = "ip", Scopes = [RelayKeyScopes.Byok], AllowedIps = ["10.20.0.0/16"], // the test calls from 127.0.0.1
        });
        var (_, onlyAnthropic) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = tenant, Name = "a", Scopes = [RelayKeyScopes.Byok], Providers = ["anthropic"] });
        var (_, slow) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = tenant, Name = "slow", Scopes = [RelayKeyScopes.Byok], Rpm = 2 });

        foreach (var method in new[] { HttpMethod.Put, HttpMethod.Get, HttpMethod.Delete })
        {
            var (response, text) = await TenantCalls.SendAsync(host, method, tenant, "openai", elsewhere, method == HttpMethod.Put ? new { value } : null);
            Assert.Equal((HttpStatusCode.Forbidden, "ip_not_allowed"), (response.StatusCode, TenantCalls.ErrorCode(text)));
        }
        var (otherProvider, otherText) = await TenantCalls.PutAsync(host, tenant, onlyAnthropic, value);
        Assert.Equal((HttpStatusCode.Forbidden, "provider_not_allowed"), (otherProvider.StatusCode, TenantCalls.ErrorCode(otherText)));
        // Its own provider is still its to manage (nothing stored: 404).
        Assert.Equal(HttpStatusCode.NotFound, (await TenantCalls.SendAsync(host, HttpMethod.Get, tenant, "anthropic", onlyAnthropic)).Response.StatusCode);

        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.NotFound, (await TenantCalls.SendAsync(host, HttpMethod.Get, tenant, "openai", slow)).Response.StatusCode);
        var (limited, limitedText) = await TenantCalls.PutAsync(host, tenant, slow, value);
        Assert.Equal((HttpStatusCode.TooManyRequests, "rpm"), (limited.StatusCode, TenantCalls.ErrorCode(limitedText)));
        Assert.Equal(TimeSpan.FromSeconds(50), limited.Headers.RetryAfter!.Delta);

        // None of the refused PUTs stored anything; the admin key is not held to a relay key's limits.
        Assert.Null(await host.Services.GetRequiredService<ProviderKeyRegistry>().GetAsync(TenantKeyNames.KeyName(tenant, "openai")));
        var (byAdmin, _) = await TenantCalls.SendAsync(host, HttpMethod.Put, tenant, "openai", relayKey: null, new { value }, admin: true);
        Assert.Equal(HttpStatusCode.Created, byAdmin.StatusCode);
    }
}
