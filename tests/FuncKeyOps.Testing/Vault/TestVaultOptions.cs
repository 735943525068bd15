using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Testing.Vault;

/// <summary>Settings for <see cref="TestVault.StartAsync(TestVaultOptions, CancellationToken)"/>.</summary>
public sealed class TestVaultOptions
{
    /// <summary>Port on 127.0.0.1; 0 picks a free one. Restarts reuse whatever was bound first.</summary>
    public int Port { get; set; }

    /// <summary>Clock for the created, updated and deletion timestamps; lets tests use a fake clock.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Adds logging providers (e.g. a capturing one for a canary test). The minimum level is forced to
    /// Warning afterwards, so ASP.NET Core's request logging can never be switched on through here.
    /// </summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; set; }
}
