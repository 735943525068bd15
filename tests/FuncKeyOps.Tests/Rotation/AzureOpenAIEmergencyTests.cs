using Azure.Core;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Connectors.AzureOpenAI;
using FuncKeyOps.Secrets;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Testing.Vault;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>
/// An emergency rotation of an <c>azure-openai</c> key against the ARM fake: containment takes all weight off the
/// leaked slot and regenerates it, after which no slot serves; the rotation must still end with the other slot serving.
/// </summary>
public class AzureOpenAIEmergencyTests
{
    [Fact]
    public async Task Contain_first_regenerates_the_leaked_slot_and_ends_with_the_other_slot_serving()
    {
        await using var arm = await FakeArm.StartAsync();
        await using var host = await RotationHost.StartAsync(configure: services =>
        {
            // The host's ARM credential and trust of the fake's certificate, as the Durable connector tests set them.
            services.AddSingleton<TokenCredential>(new TestVaultCredential());
            services.AddHttpClient(AzureOpenAIKeyConnector.HttpClientName).ConfigurePrimaryHttpMessageHandler(arm.CreateTrustingHandler);
        });
        var fakes = host.Relay.Fakes;
        var accountId = FakeArm.NewAccountId("fko-" + Guid.NewGuid().ToString("N")[..8]);
        arm.AddAccount(accountId, fakes.Azure);
        var name = $"aoai-{Guid.NewGuid():N}"[..20];
        var key = new ProviderKeyConfig
        {
            Name = name,
            Provider = "azure-openai",
            BaseUrl = fakes.Azure.BaseUri,
            SecretName = name,
            Connector = AzureOpenAIKeyConnector.ConnectorName,
            ConnectorSettings = new Dictionary<string, string> { ["resourceId"] = accountId, ["armEndpoint"] = arm.BaseUri.AbsoluteUri },
        };
        var leaked = arm.KeysOf(accountId).Key1;
        var idleBefore = arm.KeysOf(accountId).Key2;
        var leakedVersion = host.Relay.Server.Vault.SetSecretDirect(name, leaked,
            new Dictionary<string, string> { [SecretTags.State] = "active", [SecretTags.ProviderKeyId] = "key1" });
        await host.Registry.PutAsync(key with { Weights = new Dictionary<string, int> { [leakedVersion] = ProviderKeyActivation.FullWeight } });

        var rotation = await host.StartRotationAsync(name, RotationStrategy.Emergency);
        var status = await host.DriveAsync(rotation);

        var record = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
        Assert.True(status == RotationStatus.Succeeded, $"{status}: {string.Join("; ", record.History.Select(h => $"{h.Step}: {h.Result}"))}");
        var versions = await host.VersionsAsync(name);
        Assert.Equal("key2", versions[record.NewVersion!].Tags[SecretTags.ProviderKeyId]);
        Assert.Equal(new Dictionary<string, int> { [record.NewVersion!] = 100 }, (await host.Registry.GetAsync(name))!.Weights);
        var served = (await host.Secrets.GetAsync(name, record.NewVersion!)).Value;
        Assert.Equal(arm.KeysOf(accountId).Key2, served);
        Assert.NotEqual(idleBefore, served); // the idle slot was regenerated too: whoever saw one key may have seen both
        Assert.NotEqual(leaked, arm.KeysOf(accountId).Key1);
        Assert.Equal((SecretVersionState.Revoked, false), (versions[leakedVersion].State, versions[leakedVersion].Enabled));
        var validator = host.Services.GetRequiredService<ProviderKeyValidator>();
        Assert.Equal(ProviderKeyVerdict.Accepted, (await validator.ValidateAsync(key, served, CancellationToken.None)).Verdict);
        Assert.Equal(ProviderKeyVerdict.Rejected, (await validator.ValidateAsync(key, leaked, CancellationToken.None)).Verdict);
    }
}
