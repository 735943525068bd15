using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FuncKeyOps.Testing.Drills;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Testing.Vault;

// `build.sh dev` runs this to serve the local stand-ins for Key Vault and the four providers, and reads the
// KEY=VALUE lines it prints (then READY) to point the Server host at them. The vault starts seeded with an
// admin key, the fakes' admin credentials, and one staged provider key version per fake provider, each a key its
// fake's admin API made (so a rotation drill can revoke it) with the connector settings that reach that admin API.
// `build.sh leak-drill` runs it with `leak-drill`, against a running dev (Drills/DevLeakDrill.cs).
if (args is ["leak-drill", .. var drillArgs])
    return await DevLeakDrill.RunAsync(drillArgs);
if (args is not ["serve"])
{
    Console.Error.WriteLine("usage: FuncKeyOps.Testing serve | leak-drill [--calls N] [--wait]");
    return 2;
}

using var stop = new CancellationTokenSource();
// The servers' own hosts also listen for these signals, but only stop themselves; this stops the process.
using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

await using var vault = await TestVault.StartAsync();
var adminKey = "fko-admin-" + RandomNumberGenerator.GetHexString(32, lowercase: true);
vault.SetSecretDirect("fko-admin-key", adminKey);

Console.WriteLine($"FKO_VAULT_URI={vault.VaultUri}");
Console.WriteLine($"FKO_VAULT_THUMBPRINT={vault.CertificateThumbprint}");
Console.WriteLine($"FKO_ADMIN_KEY={adminKey}");

await using var providers = await DevProviders.StartAsync(vault);
foreach (var key in providers.Keys)
{
    // Staged, as POST provider-keys/{name}/versions leaves a value: `dev` activates it through the admin API.
    var version = vault.SetSecretDirect($"{key.Provider}-dev", key.Value,
        new Dictionary<string, string> { ["state"] = "pending", ["providerKeyId"] = key.ProviderKeyId });
    var variable = "FKO_FAKE_" + key.Provider.Replace('-', '_').ToUpperInvariant();
    Console.WriteLine($"{variable}_URL={key.BaseUrl}");
    Console.WriteLine($"{variable}_VERSION={version}");
    // Single-quoted: build.sh sources these lines (System.Text.Json escapes any quote inside).
    Console.WriteLine($"{variable}_CONNECTOR_SETTINGS='{key.ConnectorSettingsJson}'");
}

// What an operator stages for an anthropic drill, Anthropic's admin API being unable to create a key.
Console.WriteLine($"FKO_FAKE_ANTHROPIC_NEXT_KEY={providers.AnthropicNextKey.Value}");
Console.WriteLine($"FKO_FAKE_ANTHROPIC_NEXT_KEY_ID={providers.AnthropicNextKey.KeyId}");
Console.WriteLine("READY");
await Console.Out.FlushAsync();

try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
    // Asked to stop.
}
return 0;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}
