using FuncKeyOps.Providers;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Providers;

public class ProviderCatalogTests
{
    [Fact]
    public void AddProviders_registers_four_singleton_adapters_and_the_catalog()
    {
        using var services = new ServiceCollection().AddProviders().AddProviders().BuildServiceProvider();

        var catalog = services.GetRequiredService<ProviderCatalog>();

        Assert.Equal(["openai", "anthropic", "gemini", "azure-openai"], catalog.All.Select(a => a.Name));
        Assert.Same(services.GetRequiredService<OpenAIAdapter>(), catalog.All[0]);
        Assert.Same(catalog, services.GetRequiredService<ProviderCatalog>());
        Assert.Equal(4, services.GetServices<IProviderAdapter>().Count());
    }

    [Theory]
    [InlineData("openai", typeof(OpenAIAdapter))]
    [InlineData("anthropic", typeof(AnthropicAdapter))]
    [InlineData("gemini", typeof(GeminiAdapter))]
    [InlineData("azure-openai", typeof(AzureOpenAIAdapter))]
    public void Lookup_by_route_name(string name, Type type)
    {
        Assert.True(ProvidersUnderTest.Catalog.TryGet(name, out var adapter));
        Assert.IsType(type, adapter);
        Assert.Equal(name, adapter.Name);
    }

    [Theory]
    [InlineData("OpenAI")]
    [InlineData("azure_openai")]
    [InlineData("")]
    [InlineData("openai ")]
    public void Names_are_exact(string name) => Assert.False(ProvidersUnderTest.Catalog.TryGet(name, out _));

    [Fact]
    public void Two_adapters_with_one_name_are_refused() =>
        Assert.Throws<ArgumentException>(() => new ProviderCatalog([new OpenAIAdapter(), new OpenAIAdapter()]));
}
