using System.Net;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation;
using FuncKeyOps.Secrets;
using static FuncKeyOps.Tests.ProviderKeys.ProviderKeyCalls;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>
/// Revoke acts on what serves now, not on what served when the rotation began: a version carrying routing weight is
/// never revoked, and an operator cannot activate a version (a natural manual rollback) while a rotation is unfinished.
/// </summary>
public class RevokeRecheckTests
{
    [Fact]
    public async Task A_version_that_carries_weight_again_at_the_revoke_step_is_not_revoked_and_the_rotation_fails_saying_so()
    {
        await using var host = await RotationHost.StartAsync();
        var name = await host.RegisterKeyAsync();
        var old = Assert.Single((await host.Registry.GetAsync(name))!.Weights.Keys);
        var rotation = await host.StartRotationAsync(name, RotationStrategy.BlueGreen);

        // During the grace the old version serves again (a rollback made by hand, straight in the registry and vault).
        var status = await host.DriveAsync(rotation, afterStep: async (_, result) =>
        {
            var record = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
            if (result.NextIndex is { } next && record.Plan.Steps[next].Kind == RotationStepKind.Revoke && record.History.All(h => h.Step != "revoke"))
            {
                await host.Secrets.UpdateAsync(name, old, new SecretVersionUpdate(Tags: new Dictionary<string, string> { [SecretTags.State] = "active" }));
                await host.Registry.SetWeightsAsync(name, new Dictionary<string, int> { [old] = ProviderKeyActivation.FullWeight });
            }
        });

        Assert.Equal(RotationStatus.Failed, status);
        var versions = await host.VersionsAsync(name);
        Assert.True(versions[old].Enabled);
        Assert.Equal(SecretVersionState.Active, versions[old].State);
        Assert.False(host.Connector.Revokes.ContainsKey(name));
        var final = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
        Assert.Contains("routing weight", final.History[^1].Result);
        Assert.Contains(old, final.History[^1].Result);
    }

    [Fact]
    public async Task Activation_while_a_rotation_is_unfinished_is_409_naming_the_rotation_and_changes_nothing()
    {
        await using var host = await RotationHost.StartAsync();
        var name = await host.RegisterKeyAsync();
        var old = Assert.Single((await host.Registry.GetAsync(name))!.Weights.Keys);
        var rotation = await host.StartRotationAsync(name, RotationStrategy.BlueGreen);
        for (var index = 0; index < 3; index++) // create, validate (its hold skipped), shift: the new version serves, the old one waits out its grace
        {
            var result = await host.Runner.RunStepAsync(rotation, index, CancellationToken.None);
            Assert.Equal(index + 1, result.NextIndex);
            if (index < 2)
                host.Time.Advance(result.Wait);
        }
        var weights = (await host.Registry.GetAsync(name))!.Weights;

        var (activated, error) = await AdminAsync(host.Relay, HttpMethod.Post, $"provider-keys/{name}/versions/{old}/activate");
        var (staged, stageError) = await AdminAsync(host.Relay, HttpMethod.Post, $"provider-keys/{name}/versions",
            new { value = host.Connector.InitialKeys.Values.Single(), activate = true });

        Assert.Equal(HttpStatusCode.Conflict, activated.StatusCode);
        Assert.Equal("rotation_running", error.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains(rotation.Id, error.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.Conflict, staged.StatusCode);
        Assert.Equal("rotation_running", stageError.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(weights, (await host.Registry.GetAsync(name))!.Weights);
    }

    [Fact]
    public async Task The_manual_connector_refuses_to_have_a_serving_version_disabled()
    {
        var connector = new FuncKeyOps.Rotation.Connectors.ManualConnector();
        var key = new ProviderKeyConfig { Name = "manual-k", Provider = "openai", BaseUrl = new Uri("https://example.invalid/"), SecretName = "manual-k", Connector = "manual" };

        var serving = await connector.RevokeAsync(new(key, "r1", ["id-serving"]), new("v1", "id-serving"), CancellationToken.None);
        var idle = await connector.RevokeAsync(new(key, "r1", ["id-serving"]), new("v0", "id-old"), CancellationToken.None);

        Assert.Equal((FuncKeyOps.Rotation.Connectors.ConnectorRevokeOutcome.Failed, false), (serving.Outcome, serving.Transient));
        Assert.Equal(FuncKeyOps.Rotation.Connectors.ConnectorRevokeOutcome.OperatorMustRevoke, idle.Outcome);
    }
}
