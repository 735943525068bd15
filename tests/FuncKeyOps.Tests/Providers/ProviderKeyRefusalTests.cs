using System.Text;
using FuncKeyOps.Providers;

namespace FuncKeyOps.Tests.Providers;

/// <summary>Which error answers, besides 401 and 403, say the provider refused the relay's own key.</summary>
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
    public void Other_providers_refuse_keys_only_with_401_or_403(string provider)
    {
        IProviderAdapter adapter = provider switch
        {
            "openai" => new OpenAIAdapter(),
            "anthropic" => new AnthropicAdapter(),
            _ => new AzureOpenAIAdapter(),
        };
        Assert.False(adapter.IsProviderKeyRefusal(400, Encoding.UTF8.GetBytes(GoogleInvalidKey)));
    }
}
