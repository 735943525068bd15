using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FuncKeyOps.Tests.Operators;

/// <summary>
/// The shadow-usage leak drill the README describes (<c>./build.sh leak-drill</c>) against a fresh <c>./build.sh dev</c>:
/// what dev must wire for shadow usage to see a copied key. The finding itself needs the hour of the calls to settle on
/// the wall clock (dev cannot move the host's clock); the finding, its alert and the emergency rotation on a settled hour
/// are <c>ShadowUsageServerTests</c>' (the same Server host, on a fake clock).
/// </summary>
public sealed partial class DevScriptTests
{
    private static readonly TimeSpan LeakDrillPatience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_leak_drill_sends_openai_devs_active_key_straight_to_the_fake_which_reports_the_calls_under_its_key_id_and_a_sweep_reads_that_report_without_warning()
    {
        var port = FreePort();
        await using var dev = DevScript.Start(port);
        var adminKey = await dev.WaitForLineAsync("FKO_ADMIN_KEY=");
        await dev.WaitForLineAsync("Ctrl-C stops everything.");
        using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/api/admin/"), Timeout = TimeSpan.FromSeconds(60) };
        admin.DefaultRequestHeaders.Add("x-fko-admin-key", adminKey);
        var active = ActiveVersion(await GetJsonAsync(admin, "provider-keys/openai-dev"));

        var (exit, output) = await RunLeakDrillAsync(port, "--calls", "12");

        Assert.True(exit == 0, $"leak-drill exited {exit}:\n{output}\n{dev.Tail()}");
        Assert.Contains($"Leaked: version {active} of openai-dev (OpenAI key id ", output, StringComparison.Ordinal);
        var keyId = Regex.Match(output, @"OpenAI key id (\S+)\)").Groups[1].Value;
        Assert.Contains("past the relay: 12 of 12 answered 200.", output, StringComparison.Ordinal);
        // Billed and reported under the id the version's providerKeyId tag names, read with the admin key its connector names.
        Assert.Contains($"usage report (read with the admin key in openai-admin-key) shows 12 requests on key {keyId} in the hour", output, StringComparison.Ordinal);
        Assert.Contains($"(Anomalies:UsageSettle 00:01:00): the first sweep after ", output, StringComparison.Ordinal);
        Assert.Contains($"(subject provider-key:openai-dev/{active})", output, StringComparison.Ordinal);

        // The sweep reads the usage reports of openai-dev and anthropic-dev with the admin keys dev keeps in the vault: a
        // report it could not read would be a warning naming the key, and the key's hours would stay unjudged for every
        // later run to read again (so an earlier scheduled run cannot have hidden it).
        var run = await SweepNowAsync(admin);
        var warnings = run["warnings"]!.AsArray().Select(w => w!.GetValue<string>()).ToList();
        Assert.DoesNotContain(warnings, w => w.Contains("-dev", StringComparison.Ordinal));
    }

    /// <summary><c>./build.sh leak-drill</c> beside the dev on <paramref name="port"/>, as a second terminal runs it.</summary>
    private static async Task<(int Exit, string Output)> RunLeakDrillAsync(int port, params string[] arguments)
    {
        var info = new ProcessStartInfo("bash")
        {
            WorkingDirectory = DevScript.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "build.sh", "leak-drill" }.Concat(arguments))
            info.ArgumentList.Add(arg);
        // Everything else the drill reads from the files that dev wrote for its port.
        foreach (var inherited in new[] { "FKO_ADMIN_KEY", "FKO_FUNCTION_KEY", "KeyVault__Uri" })
            info.Environment.Remove(inherited);
        info.Environment["FKO_DEV_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["CONFIGURATION"] = typeof(DevScript).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var patience = new CancellationTokenSource(LeakDrillPatience);
        try
        {
            await process.WaitForExitAsync(patience.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"leak-drill still runs after {LeakDrillPatience}:\n{await stdout}\n{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary><c>POST sweeps/run</c>; while dev's own scheduled sweep holds the lease (409), again after its Retry-After.</summary>
    private static async Task<JsonObject> SweepNowAsync(HttpClient admin)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var response = await admin.PostAsync("sweeps/run", content: null);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.Conflict && attempt < 5)
            {
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
                continue;
            }
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST sweeps/run: {(int)response.StatusCode} {body}");
            return JsonNode.Parse(body)!.AsObject();
        }
    }
}
