using FuncKeyOps.Testing.Vault;

namespace FuncKeyOps.Tests.Server;

/// <summary>A bad setting stops the Server host at start-up with a message naming it, not at the first call that reads it.</summary>
public class StartupValidationTests
{
    [Theory]
    [InlineData("Relay:TrustedProxies:0", "10.0.0.0/33", "Relay:TrustedProxies")]
    [InlineData("Relay:TrustedProxies:0", "not-an-address", "Relay:TrustedProxies")]
    [InlineData("Relay:UpstreamTimeout", "-00:00:01", "Relay:UpstreamTimeout")]
    [InlineData("Relay:MaxRequestBodyBytes", "0", "Relay:MaxRequestBodyBytes")]
    [InlineData("Relay:MaxRetries", "-1", "Relay:MaxRetries")]
    [InlineData("Relay:RetryBaseDelay", "00:00:00", "Relay:RetryBaseDelay")]
    [InlineData("Relay:MaxRetryAfter", "-00:00:01", "Relay:MaxRetryAfter")]
    [InlineData("Relay:Circuit:FailureRatio", "0", "Relay:Circuit:FailureRatio")]
    [InlineData("Relay:Circuit:MinimumThroughput", "1", "Relay:Circuit:MinimumThroughput")]
    [InlineData("Relay:Circuit:SamplingDuration", "00:00:00.100", "Relay:Circuit:SamplingDuration")]
    [InlineData("Relay:Circuit:BreakDuration", "00:00:00", "Relay:Circuit:BreakDuration")]
    [InlineData("Relay:Circuit:MaxBreakDuration", "00:00:01", "Relay:Circuit:MaxBreakDuration")]
    [InlineData("Secrets:Cache:TimeToLive", "00:00:00", "Secrets:Cache:TimeToLive")]
    [InlineData("Secrets:Cache:RefreshAhead", "00:10:00", "Secrets:Cache:RefreshAhead")]
    [InlineData("Secrets:Cache:MaxStale", "-00:00:01", "Secrets:Cache:MaxStale")]
    [InlineData("ProviderKeys:CacheTtl", "00:00:00", "ProviderKeys:CacheTtl")]
    [InlineData("ProviderKeys:ValidationTimeout", "00:00:00", "ProviderKeys:ValidationTimeout")]
    [InlineData("Admin:StorageTimeout", "00:00:00", "Admin:StorageTimeout")]
    [InlineData("Admin:KeySecretName", "", "Admin:KeySecretName")]
    [InlineData("RelayKeys:CacheTtl", "00:00:00", "RelayKeys:CacheTtl")]
    [InlineData("KeyVault:Credential", "Sometimes", "KeyVault:Credential")]
    [InlineData("KeyVault:Uri", "", "KeyVault:Uri")]
    [InlineData("Storage:ConnectionString", "", "Storage:ConnectionString")]
    [InlineData("Quotas:FlushInterval", "00:00:00", "Quotas:FlushInterval")]
    [InlineData("Audit:Shards", "0", "Audit:Shards")]
    [InlineData("Anomalies:Mode", "sometimes", "Anomalies:Mode")]
    [InlineData("Anomalies:Actions:NewSource", "always", "Anomalies:Actions:NewSource")]
    public async Task A_bad_setting_fails_start_up_naming_it(string setting, string value, string named)
    {
        await using var vault = await TestVault.StartAsync();
        var e = await Assert.ThrowsAnyAsync<Exception>(() => ServerHost.StartAsync(vault: vault, settings: new Dictionary<string, string?> { [setting] = value }));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }
}
