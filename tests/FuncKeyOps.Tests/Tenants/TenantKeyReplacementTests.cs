using System.Net;
using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Server;
using FuncKeyOps.Secrets;
using FuncKeyOps.Tenants;
using FuncKeyOps.Tests.Relay;
using FuncKeyOps.Tests.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Tenants;

/// <summary>
/// Every value a tenant's PUT replaces is disabled in Key Vault after the grace, however PUTs meet: two at once, or one
/// that stops between activating the new value and starting the old one's revoke (a restart finishes it).
/// </summary>
public class TenantKeyReplacementTests
{
    // As ByokTests: a grace of about a second, a driver that polls often.
    private static readonly Dictionary<string, string?> ShortGrace = ByokTests.ShortGrace;

    private static string NewValue() => "sk-tenant-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Two_PUTs_at_once_leave_no_replaced_value_enabled_after_the_grace()
    {
        await using var host = await RelayHost.StartAsync(settings: ShortGrace);
        var tenant = "both-" + Guid.NewGuid().ToString("N")[..8];
        var key = await TenantCalls.RelayKeyAsync(host, tenant);
        var (first, a, b) = (NewValue(), NewValue(), NewValue());
        foreach (var value in new[] { first, a, b })
            host.OpenAI.AcceptKey(value);
        Assert.Equal(HttpStatusCode.Created, (await TenantCalls.PutAsync(host, tenant, key, first)).Response.StatusCode);
        await FinishRevokesAsync(host.Services, TenantKeyNames.KeyName(tenant, "openai"));

        // PUT a stops right after storing its value until PUT b has answered: the two overlap as closely as they can.
        var service = host.Services.GetRequiredService<TenantKeyService>();
        var bAnswered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aStaged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        service.AfterWrite = async (name, write) =>
        {
            if (write == TenantKeyService.Staged && !aStaged.Task.IsCompleted)
            {
                aStaged.SetResult();
                await bAnswered.Task;
            }
        };
        var putA = TenantCalls.PutAsync(host, tenant, key, a);
        await aStaged.Task;
        var (answerB, _) = await TenantCalls.PutAsync(host, tenant, key, b);
        bAnswered.SetResult();
        var (answerA, _) = await putA;
        Assert.Equal(HttpStatusCode.OK, answerA.StatusCode);
        Assert.Contains(answerB.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Conflict });

        var name = TenantKeyNames.KeyName(tenant, "openai");
        await FinishRevokesAsync(host.Services, name);
        var versions = await host.Services.GetRequiredService<ISecretStore>().ListVersionsAsync(name);
        var enabled = Assert.Single(versions, v => v.Enabled);
        Assert.Equal(a, (await host.Services.GetRequiredService<ISecretStore>().GetAsync(name, enabled.Version)).Value);
    }

    [Fact]
    public async Task A_PUT_stopped_between_activating_the_new_value_and_starting_the_revoke_is_finished_by_a_restart()
    {
        await using var host = await RelayHost.StartAsync(settings: ShortGrace);
        var tenant = "crash-" + Guid.NewGuid().ToString("N")[..8];
        var key = await TenantCalls.RelayKeyAsync(host, tenant);
        var (first, second) = (NewValue(), NewValue());
        host.OpenAI.AcceptKey(first);
        host.OpenAI.AcceptKey(second);
        Assert.Equal(HttpStatusCode.Created, (await TenantCalls.PutAsync(host, tenant, key, first)).Response.StatusCode);

        // The process dies right after the activation: nothing after it runs.
        host.Services.GetRequiredService<TenantKeyService>().AfterWrite = (_, write) =>
            write == TenantKeyService.Activated ? throw new InvalidOperationException("the process stops here") : Task.CompletedTask;
        var (crashed, _) = await TenantCalls.PutAsync(host, tenant, key, second);
        Assert.False(crashed.IsSuccessStatusCode);
        var name = TenantKeyNames.KeyName(tenant, "openai");
        var store = host.Services.GetRequiredService<ISecretStore>();
        Assert.Null(await host.Services.GetRequiredService<RotationStore>().GetUnfinishedAsync(name));
        Assert.Equal(2, (await store.ListVersionsAsync(name)).Count(v => v.Enabled)); // the old value left enabled

        // A new instance on the same tables and vault (the restarted process) finishes the replacement.
        var settings = new Dictionary<string, string?>(ShortGrace)
        {
            ["Storage:TablePrefix"] = host.Services.GetRequiredService<IConfiguration>()["Storage:TablePrefix"],
        };
        var restarted = await ServerHost.StartAsync(settings: settings, vault: host.Server.Vault);
        try
        {
            await FinishRevokesAsync(restarted.App.Services, name, waitForOne: true);
            var enabled = Assert.Single(await store.ListVersionsAsync(name), v => v.Enabled);
            Assert.Equal(second, (await store.GetAsync(name, enabled.Version)).Value);
        }
        finally
        {
            // Not DisposeAsync: the vault is the first host's, disposed with it.
            await restarted.App.StopAsync();
            await restarted.App.DisposeAsync();
        }
    }

    /// <summary>Waits, on the host's driver sweeps, until no revoke of the key is unfinished (and, if told, one was seen to finish).</summary>
    private static async Task FinishRevokesAsync(IServiceProvider services, string name, bool waitForOne = false)
    {
        var rotations = services.GetRequiredService<RotationStore>();
        var driver = services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<RotationDriverService>().Single();
        // A failsafe, not a timing: the revoke waits out the real grace (ProviderKeyStaleness.Bound, several seconds with
        // these settings) and then a driver sweep; a fresh-clone run beside other builds (load 40+ on 2 cores) took over
        // 30 s for it, so the bound only has to tell "never" from "slow".
        var deadline = Task.Delay(TimeSpan.FromSeconds(120));
        var seen = !waitForOne;
        while (true)
        {
            var unfinished = await rotations.GetUnfinishedAsync(name);
            seen |= unfinished is not null;
            if (unfinished is null && seen)
                return;
            Assert.NotSame(deadline, await Task.WhenAny(driver.NextSweepAsync(), deadline));
        }
    }
}
