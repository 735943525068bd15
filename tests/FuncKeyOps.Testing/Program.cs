using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Testing.Vault;

// `build.sh dev` runs this to serve the local stand-ins for Key Vault and the four providers, and reads the
// KEY=VALUE lines it prints (then READY) to point the Server host at them. The vault starts seeded with an
// admin key and one staged provider key version per fake provider, each accepted by its fake.
if (args is not ["serve"])
{
    Console.Error.WriteLine("usage: FuncKeyOps.Testing serve");
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

await using var fakes = await FakeProviderSet.StartAsync();
foreach (var (name, fake) in fakes.All)
{
    // Staged, as POST provider-keys/{name}/versions leaves a value: `dev` activates it through the admin API.
    var version = vault.SetSecretDirect($"{name}-dev", fakes.Keys[name], new Dictionary<string, string> { ["state"] = "pending" });
    var variable = name.Replace('-', '_').ToUpperInvariant();
    Console.WriteLine($"FKO_FAKE_{variable}_URL={fake.BaseUri}");
    Console.WriteLine($"FKO_FAKE_{variable}_VERSION={version}");
}
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
