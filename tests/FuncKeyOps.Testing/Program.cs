using System.Runtime.InteropServices;
using FuncKeyOps.Testing.Vault;

// `build.sh dev` runs this to serve the local stand-ins for Azure and the providers, and reads the
// KEY=VALUE lines it prints (then READY) to point the Server host at them.
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
Console.WriteLine($"FKO_VAULT_URI={vault.VaultUri}");
Console.WriteLine($"FKO_VAULT_THUMBPRINT={vault.CertificateThumbprint}");
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
