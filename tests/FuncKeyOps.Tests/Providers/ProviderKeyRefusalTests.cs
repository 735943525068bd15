using System.Text;
using FuncKeyOps.Providers;

namespace FuncKeyOps.Tests.Providers;

/// <summary>Which error answers say the provider refused the relay's own key (the relay's 502 and an activation's 422 both ask).</summary>
public class ProviderKeyRefusalTests
{
    private const string GoogleInvalidKey = """
        {"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT",
         "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com",
                     "metadata":{"service":"generativelanguage.googleapis.com"}},
                    {"@type":"type.googleapis.com/google.rpc.LocalizedMessage","locale":"en-US","message":"API key not valid."}]}}
        """;

    [Theory]
    [InlineData(400, GoogleInvalidKey, true)]
    [InlineData(401, "", true)]
    [InlineData(403, "", true)]
    [InlineData(500, GoogleInvalidKey, false)] // only Google's 400 carries this meaning
    [InlineData(400, """{"error":{"code":400,"message":"Request contains an invalid argument.","status":"INVALID_ARGUMENT"}}""", false)]
    [InlineData(400, """{"error":{"code":400,"message":"reason API_KEY_INVALID in a message is not a reason","status":"INVALID_ARGUMENT","details":[{"reason":"FIELD_INVALID"}]}}""", false)]
    [InlineData(400, """{"error":{"details":"API_KEY_INVALID"}}""", false)]
    [InlineData(400, "<html>Bad Request</html>", false)]
    [InlineData(400, "", false)]
    public void Gemini_reads_reason_API_KEY_INVALID_from_its_400(int status, string body, bool refused) =>
        Assert.Equal(refused, new GeminiAdapter().IsProviderKeyRefusal(status, Encoding.UTF8.GetBytes(body)));

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    [InlineData("azure-openai")]
    [InlineData("gemini")]
    public void Every_provider_refuses_keys_with_401_or_403_and_only_Google_with_its_400(string provider)
    {
        IProviderAdapter adapter = provider switch
        {
            "openai" => new OpenAIAdapter(),
            "anthropic" => new AnthropicAdapter(),
            "gemini" => new GeminiAdapter(),
            _ => new AzureOpenAIAdapter(),
        };
        Assert.True(adapter.IsProviderKeyRefusal(401, []));
        Assert.True(adapter.IsProviderKeyRefusal(403, []));
        Assert.Equal(provider == "gemini", adapter.IsProviderKeyRefusal(400, Encoding.UTF8.GetBytes(GoogleInvalidKey)));
        Assert.False(adapter.IsProviderKeyRefusal(400, Encoding.UTF8.GetBytes("""{"error":{"message":"bad request"}}""")));
    }
}
