using System.Text.Json;
using FuncKeyOps.Providers;

namespace FuncKeyOps.Tests.Providers;

public class ErrorShapeTests
{
    private const string Tricky = "Relay key \"fko_abc\" is not allowed.\nSee <docs> & 'retry'\t\\ done";

    [Theory]
    [InlineData(400, "invalid_request_error")]
    [InlineData(401, "invalid_request_error")]
    [InlineData(403, "invalid_request_error")]
    [InlineData(404, "invalid_request_error")]
    [InlineData(413, "invalid_request_error")]
    [InlineData(429, "requests")]
    [InlineData(500, "server_error")]
    [InlineData(502, "server_error")]
    [InlineData(504, "server_error")]
    public void OpenAI_errors_have_message_type_param_and_code(int status, string type)
    {
        using var json = Parse("openai", status, "invalid_relay_key", Tricky);

        var error = json.RootElement.GetProperty("error");
        Assert.Equal(Tricky, error.GetProperty("message").GetString());
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.Equal("invalid_relay_key", error.GetProperty("code").GetString());
    }

    [Fact]
    public void OpenAI_quota_errors_say_insufficient_quota_like_OpenAI()
    {
        using var json = Parse("openai", 429, "insufficient_quota", "Monthly token budget exhausted.");

        Assert.Equal("insufficient_quota", json.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Theory]
    [InlineData(400, "invalid_request_error")]
    [InlineData(401, "authentication_error")]
    [InlineData(403, "permission_error")]
    [InlineData(404, "not_found_error")]
    [InlineData(413, "request_too_large")]
    [InlineData(429, "rate_limit_error")]
    [InlineData(500, "api_error")]
    [InlineData(502, "api_error")]
    [InlineData(503, "overloaded_error")]
    [InlineData(529, "overloaded_error")]
    [InlineData(504, "timeout_error")]
    public void Anthropic_errors_are_typed_by_status(int status, string type)
    {
        using var json = Parse("anthropic", status, "model_not_allowed", Tricky);

        Assert.Equal("error", json.RootElement.GetProperty("type").GetString());
        var error = json.RootElement.GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal(Tricky, error.GetProperty("message").GetString());
        Assert.Equal("model_not_allowed", error.GetProperty("details").GetProperty("error_code").GetString());
    }

    [Theory]
    [InlineData(400, "INVALID_ARGUMENT")]
    [InlineData(401, "UNAUTHENTICATED")]
    [InlineData(403, "PERMISSION_DENIED")]
    [InlineData(404, "NOT_FOUND")]
    [InlineData(413, "INVALID_ARGUMENT")]
    [InlineData(429, "RESOURCE_EXHAUSTED")]
    [InlineData(500, "INTERNAL")]
    [InlineData(502, "UNAVAILABLE")]
    [InlineData(503, "UNAVAILABLE")]
    [InlineData(504, "DEADLINE_EXCEEDED")]
    public void Gemini_errors_carry_the_status_number_and_canonical_status(int status, string canonical)
    {
        using var json = Parse("gemini", status, "rate_limited", Tricky);

        var error = json.RootElement.GetProperty("error");
        Assert.Equal(status, error.GetProperty("code").GetInt32());
        Assert.Equal(canonical, error.GetProperty("status").GetString());
        Assert.Equal(Tricky, error.GetProperty("message").GetString());
        var detail = Assert.Single(error.GetProperty("details").EnumerateArray().ToArray());
        Assert.Equal("type.googleapis.com/google.rpc.ErrorInfo", detail.GetProperty("@type").GetString());
        Assert.Equal("RATE_LIMITED", detail.GetProperty("reason").GetString());
    }

    [Theory]
    [InlineData(401)]
    [InlineData(429)]
    [InlineData(504)]
    public void Azure_errors_carry_the_relay_code_as_a_string(int status)
    {
        using var json = Parse("azure-openai", status, "upstream_timeout", Tricky);

        var error = json.RootElement.GetProperty("error");
        Assert.Equal("upstream_timeout", error.GetProperty("code").GetString());
        Assert.Equal(Tricky, error.GetProperty("message").GetString());
    }

    [Fact]
    public void Messages_are_escaped_not_concatenated()
    {
        foreach (var adapter in ProvidersUnderTest.Catalog.All)
        {
            var body = adapter.FormatError(400, "bad\"code", "a\"b\nc");

            using var json = JsonDocument.Parse(body);
            Assert.DoesNotContain((byte)'\n', body);
        }
    }

    private static JsonDocument Parse(string provider, int status, string code, string message) =>
        JsonDocument.Parse(ProvidersUnderTest.Get(provider).FormatError(status, code, message));
}
