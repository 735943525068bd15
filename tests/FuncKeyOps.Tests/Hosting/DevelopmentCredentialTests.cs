using System.Net;
using Azure.Core;
using Azure.Identity;
using FuncKeyOps.Hosting;
using FuncKeyOps.Rotation.Connectors.AzureOpenAI;
using FuncKeyOps.Secrets;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Testing.Vault;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;

namespace FuncKeyOps.Tests.Hosting;

/// <summary>
/// What <c>build.sh dev</c>'s settings (<c>KeyVault:Credential=Development</c>, the test vault's pinned certificate) give
/// the host beyond the vault: its TokenCredential and the azure-openai connector's ARM client reach the fake ARM, while
/// the default settings keep DefaultAzureCredential and normal certificate validation.
/// </summary>
public sealed class DevelopmentCredentialTests
{
    [Fact]
    public void The_host_credential_is_the_development_token_under_the_Development_credential_and_DefaultAzureCredential_otherwise()
    {
        using var development = Services(new() { ["KeyVault:Credential"] = "Development" });
        using var production = Services([]);

        var token = development.GetRequiredService<TokenCredential>().GetToken(new TokenRequestContext(["https://management.azure.com/.default"]), default);
        Assert.Equal(DevProviders.DevelopmentToken, token.Token);
        Assert.IsType<DefaultAzureCredential>(production.GetRequiredService<TokenCredential>());
    }

    [Fact]
    public async Task The_ARM_client_trusts_the_pinned_test_vault_certificate_and_only_with_the_pin()
    {
        await using var vault = await TestVault.StartAsync();
        await using var arm = await FakeArm.StartAsync(vault.Certificate);
        var listKeys = new Uri(arm.BaseUri, FakeArm.NewAccountId("fko-pin") + "/listKeys?api-version=2024-10-01");
        using var pinned = Services(new() { ["KeyVault:TrustedCertificateThumbprint"] = vault.CertificateThumbprint });
        using var unpinned = Services([]);

        using var answered = await pinned.GetRequiredService<IHttpClientFactory>().CreateClient(AzureOpenAIKeyConnector.HttpClientName).PostAsync(listKeys, null);
        Assert.Equal(HttpStatusCode.Unauthorized, answered.StatusCode); // TLS held; the fake wants a token

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() =>
            unpinned.GetRequiredService<IHttpClientFactory>().CreateClient(AzureOpenAIKeyConnector.HttpClientName).PostAsync(listKeys, null));
        Assert.Equal(HttpRequestError.SecureConnectionError, refused.HttpRequestError);
    }

    private static ServiceProvider Services(Dictionary<string, string?> settings)
    {
        settings["Storage:ConnectionString"] = "UseDevelopmentStorage=true";
        settings["KeyVault:Uri"] = "https://127.0.0.1:1/";
        var services = new ServiceCollection();
        services.AddSingleton<IHostEnvironment>(new HostingEnvironment { EnvironmentName = Environments.Development });
        services.AddLogging();
        services.AddFuncKeyOps(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        return services.BuildServiceProvider();
    }
}
