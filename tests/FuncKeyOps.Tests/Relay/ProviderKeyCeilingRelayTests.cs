using System.Net;
using System.Text;
using FuncKeyOps.Quotas;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Testing.Vault;
using FuncKeyOps.Tests.ProviderKeys;
using FuncKeyOps.Tests.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OpenAI.Chat;
using Xunit.Abstractions;

namespace FuncKeyOps.Tests.Relay;

/// <summary>A provider key's own RPM ceiling held across two Server hosts sharing Azurite, through a two-member pool.</summary>
public class ProviderKeyCeilingRelayTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Calls_past_a_members_rpm_go_to_the_other_member_on_both_instances_and_none_fails()
    {
        var valueA = "fake-openai-a-" + Guid.NewGuid().ToString("N");
        var valueB = "fake-openai-b-" + Guid.NewGuid().ToString("N");
        await using var fake = await FakeOpenAI.StartAsync(valueA, valueB);
        var vault = await TestVault.StartAsync();
        vault.SetSecretDirect("fko-admin-key", RelayHost.AdminKey);
        var now = DateTimeOffset.UtcNow;
        var time = new FakeTimeProvider(new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero));
        var settings = new Dictionary<string, string?>
        {
            ["Storage:TablePrefix"] = TestNames.NewTablePrefix(),
            ["Relay:RetryBaseDelay"] = "00:00:00.001",
        };
        await using var one = await ServerHost.StartAsync(settings: settings, vault: vault, time: time);

        await ActiveProviderKeys.RegisterAsync(one, "openai-a", "openai", fake.BaseUri, valueA, rpm: 60);
        await ActiveProviderKeys.RegisterAsync(one, "openai-b", "openai", fake.BaseUri, valueB);
        // Ordered: A takes every call it may, so only its ceiling sends calls to B.
        await PutPoolAsync(one, "openai-pool", """{"provider":"openai","mode":"ordered","members":[{"key":"openai-a"},{"key":"openai-b"}]}""");
        var (_, secret) = await ProviderKeyCalls.CreateRelayKeyAsync(one.Client,
            new { tenant = "tests", name = "pooled", providerKeys = new Dictionary<string, string> { ["openai"] = "openai-pool" } });

        // The second instance starts after the registrations, so its caches start from them.
        await using var two = await ServerHost.StartAsync(settings: settings, vault: vault, time: time);
        var hosts = new[] { one, two };
        var clients = hosts.Select(h => RelaySdks.OpenAIChat(new Uri(h.Client.BaseAddress!, "api/relay/openai/"), secret, retry: false)).ToArray();
        var gates = hosts.Select(h => h.App.Services.GetRequiredService<QuotaGate>()).ToArray();

        // 100 calls in 50 s, alternating between the instances (one a second each); both flush every F = 2 s.
        for (var i = 0; i < 100; i++)
        {
            ChatCompletion answer = await clients[i % 2].CompleteChatAsync([new UserChatMessage("hello")]);
            Assert.NotEmpty(answer.Content);
            time.Advance(TimeSpan.FromMilliseconds(500));
            if (i % 4 == 3)
            {
                foreach (var gate in gates)
                    Assert.True(await gate.FlushAsync());
            }
        }

        var toA = fake.Requests.Count(r => r.Header("Authorization") == "Bearer " + valueA);
        var toB = fake.Requests.Count(r => r.Header("Authorization") == "Bearer " + valueB);
        output.WriteLine($"member A (rpm 60) got {toA}, member B got {toB}");
        Assert.Equal(100, toA + toB); // every call answered by one member, none failed or sent twice
        // docs/quotas.md: at most RPM + (N - 1) x A, A = the most one instance admits within 2F (here 4: one a second).
        Assert.InRange(toA, 60, 60 + (2 - 1) * 4);
    }

    private static async Task PutPoolAsync(ServerHost host, string name, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "api/admin/pools/" + name)
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-fko-admin-key", RelayHost.AdminKey);
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }
}
