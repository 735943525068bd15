using FuncKeyOps.Relay;

namespace FuncKeyOps.Tests.Relay;

public class UpstreamPathTests
{
    private static readonly Uri Base = new("https://api.openai.example/");

    [Theory]
    [InlineData("v1/chat/completions", "", "https://api.openai.example/v1/chat/completions")]
    [InlineData("v1beta/models/gemini-2.0-flash:streamGenerateContent", "?alt=sse", "https://api.openai.example/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse")]
    [InlineData("openai/deployments/gpt-4o/chat/completions", "?api-version=2024-10-21", "https://api.openai.example/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21")]
    public void Plain_paths_stay_under_the_base(string path, string query, string expected)
    {
        Assert.True(UpstreamPath.TryBuild(Base, path, query, out var uri));
        Assert.Equal(expected, uri!.AbsoluteUri);
    }

    [Fact]
    public void A_base_with_a_path_keeps_it()
    {
        Assert.True(UpstreamPath.TryBuild(new Uri("http://127.0.0.1:8080/proxy/openai"), "v1/models", "", out var uri));
        Assert.Equal("http://127.0.0.1:8080/proxy/openai/v1/models", uri!.AbsoluteUri);
    }

    [Theory]
    [InlineData("../admin")]
    [InlineData("v1/../../etc/passwd")]
    [InlineData("v1/./models")]
    [InlineData("v1/%2e%2e/x")]
    [InlineData("v1%2f..%2fadmin")]
    [InlineData("v1%5c..%5cadmin")]
    [InlineData("v1\\..\\admin")]
    [InlineData("/etc/passwd")]
    [InlineData("v1//models")]
    [InlineData("http://evil.example/v1")]
    [InlineData("@evil.example/v1")]
    [InlineData("")]
    public void Escapes_are_refused(string path)
    {
        Assert.False(UpstreamPath.TryBuild(Base, path, "", out var uri));
        Assert.Null(uri);
    }

    [Theory]
    [InlineData("/api/relay/openai/v1/chat/completions?x=1", true)]
    [InlineData("/api/relay/openai/v1/../../admin", false)]
    [InlineData("/api/relay/openai/v1/%2E%2E/admin", false)]
    [InlineData("/api/relay/openai/v1%2Fmodels", false)]
    [InlineData("/api/relay/openai/./v1/models", false)]
    [InlineData("/api/relay/openai/v1/models?next=../x", true)]
    public void Raw_targets_with_dot_segments_or_encoded_separators_are_refused(string raw, bool safe)
    {
        Assert.Equal(safe, UpstreamPath.IsSafeRawTarget(raw));
    }
}
