using FuncKeyOps.Logging;
using FuncKeyOps.Secrets;
using FuncKeyOps.Tests.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Tests.Logging;

public class CanarySecretTests
{
    [Fact]
    public async Task A_planted_canary_secret_appears_in_no_log_output()
    {
        // One canary with no key shape (caught because it came from the vault) and one shaped like a provider key.
        var shapeless = "canary" + Guid.NewGuid().ToString("N");
        var shaped = "sk-proj-fakecanary" + Guid.NewGuid().ToString("N");
        await using var host = await ServerHost.StartAsync();
        var store = host.App.Services.GetRequiredService<ISecretStore>();
        await store.SetAsync("canary-plain", shapeless);
        await store.SetAsync("canary-shaped", shaped);

        var cache = host.App.Services.GetRequiredService<SecretCache>();
        Assert.Equal(shapeless, (await cache.GetAsync("canary-plain")).Value);
        Assert.Equal(shaped, (await cache.GetAsync("canary-shaped")).Value);
        (await host.Client.GetAsync("/api/health")).Dispose();

        // Simulate the careless log lines redaction exists for: message text, structured values, exceptions.
        var logger = host.App.Services.GetRequiredService<ILogger<CanarySecretTests>>();
        logger.LogError(new InvalidOperationException($"upstream rejected {shapeless}"), "Forwarding with key {Key} and header {Header}", shapeless, "Authorization: Bearer " + shaped);
        logger.LogWarning("Raw body: {{\"api_key\": \"{Value}\"}}", shaped);
        logger.LogInformation($"interpolated {shapeless} and {shaped}");

        var text = host.Logs.AllText;
        Assert.Contains(SecretRedactor.Mask, text);
        Assert.Contains("Forwarding with key", text);
        Assert.DoesNotContain(shapeless, text);
        Assert.DoesNotContain(shaped, text);
        Assert.DoesNotContain(shaped[..24], text);
    }

    [Theory]
    [InlineData("Authorization: Bearer abcdefgh12345678", "Authorization: Bearer [REDACTED]")]
    [InlineData("url?key=AIzaFAKEfakeFAKEfakeFAKEfake12345&alt=sse", "url?key=[REDACTED]&alt=sse")]
    [InlineData("relay key fko_ab12cd_Zm9vYmFyYmF6cXV4 used", "relay key [REDACTED] used")]
    [InlineData("x-api-key: sk-ant-api03-fakefakefake", "x-api-key: [REDACTED]")]
    [InlineData("api-key=0123456789abcdef0123456789abcdef", "api-key=[REDACTED]")]
    [InlineData("status 401 after 12 ms for model gpt-4o", "status 401 after 12 ms for model gpt-4o")]
    [InlineData("POST /api/relay/ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM/v1", "POST /api/relay/[REDACTED]/v1")]
    [InlineData("?debug=ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM&x=1", "?debug=[REDACTED]&x=1")]
    [InlineData("request 0197a1b2c3d4e5f60718293a4b5c6d7e took 3 ms", "request 0197a1b2c3d4e5f60718293a4b5c6d7e took 3 ms")]
    public void Key_shapes_are_masked_and_ordinary_text_is_not(string input, string expected)
    {
        Assert.Equal(expected, new SecretRedactor().Redact(input));
    }
}
