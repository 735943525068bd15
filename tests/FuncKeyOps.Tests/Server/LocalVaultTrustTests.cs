using System.Net;
using FuncKeyOps.Testing.Vault;

namespace FuncKeyOps.Tests.Server;

/// <summary>
/// The local vault's relaxed checks (a pinned self-signed certificate without challenge verification, a fixed
/// development token) are refused outside the Development environment unless a setting says so by name.
/// </summary>
public class LocalVaultTrustTests
{
    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    public async Task A_pinned_vault_certificate_outside_development_fails_start_up(string environment)
    {
        await using var vault = await TestVault.StartAsync();
        var e = await Assert.ThrowsAnyAsync<Exception>(() => ServerHost.StartAsync(vault: vault, environment: environment));
        Assert.Contains("KeyVault:TrustedCertificateThumbprint", e.Message, StringComparison.Ordinal);
        Assert.Contains("KeyVault:AllowLocalVaultOutsideDevelopment", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_development_credential_outside_development_fails_start_up()
    {
        await using var vault = await TestVault.StartAsync();
        var e = await Assert.ThrowsAnyAsync<Exception>(() => ServerHost.StartAsync(vault: vault, environment: "Production",
            settings: new Dictionary<string, string?> { ["KeyVault:TrustedCertificateThumbprint"] = null }));
        Assert.Contains("KeyVault:Credential", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_local_vault_works_in_development()
    {
        await using var host = await ServerHost.StartAsync();
        using var health = await host.Client.GetAsync("api/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode); // the vault was reached through the pinned certificate
    }

    [Fact]
    public async Task The_local_vault_works_outside_development_with_the_opt_in()
    {
        await using var host = await ServerHost.StartAsync(environment: "Production",
            settings: new Dictionary<string, string?> { ["KeyVault:AllowLocalVaultOutsideDevelopment"] = "true" });
        using var health = await host.Client.GetAsync("api/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}
