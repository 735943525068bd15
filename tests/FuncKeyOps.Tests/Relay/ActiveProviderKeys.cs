using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Tests.Server;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Relay;

/// <summary>Provider keys registered as a completed activation leaves them, without a provider call to validate them.</summary>
internal static class ActiveProviderKeys
{
    /// <summary>
    /// The value as the version tagged <c>active</c> in the host's vault (secret <paramref name="name"/>) carrying all
    /// routing weight, registered under <paramref name="name"/>.
    /// </summary>
    public static async Task<ProviderKeyConfig> RegisterAsync(ServerHost server, string name, string provider, Uri baseUrl, string value, int? rpm = null)
    {
        var version = server.Vault.SetSecretDirect(name, value, new Dictionary<string, string> { ["state"] = "active" });
        var config = new ProviderKeyConfig
        {
            Name = name,
            Provider = provider,
            BaseUrl = baseUrl,
            SecretName = name,
            Rpm = rpm,
            Weights = new Dictionary<string, int> { [version] = ProviderKeyActivation.FullWeight },
        };
        await server.App.Services.GetRequiredService<ProviderKeyRegistry>().PutAsync(config);
        return config;
    }
}
