using FuncKeyOps.Testing.Vault;

// `build.sh dev` runs this to serve the local stand-ins for Azure and the providers, and reads the
// KEY=VALUE lines it prints (then READY) to point the Server host at them.
if (args is not ["serve"])
{
    Console.Error.WriteLine("usage: FuncKeyOps.Testing serve");
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();

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
