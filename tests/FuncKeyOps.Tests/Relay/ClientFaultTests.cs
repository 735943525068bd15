using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Tests.Relay;

/// <summary>
/// A client that sends its body too slowly, malformed, not at all or not as UTF-8 made the mistake, not the relay:
/// a 4xx where an answer is possible, 499 where the client left, an audit row either way, and no error-level log.
/// </summary>
public class ClientFaultTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static string ChatHead(string secret, string framing) =>
        $"POST /api/relay/openai/v1/chat/completions HTTP/1.1\r\nAuthorization: Bearer {secret}\r\nContent-Type: application/json\r\nConnection: close\r\n{framing}";

    // No error anywhere, and no warning from the relay or the server about the call: a client's fault is neither.
    private static void AssertNothingAboveInformationLogged(RelayHost host) =>
        Assert.DoesNotContain(host.Server.Logs.Lines, line => line.StartsWith("Error ", StringComparison.Ordinal) || line.StartsWith("Critical ", StringComparison.Ordinal)
            || line.StartsWith("Warning FuncKeyOps.Relay", StringComparison.Ordinal) || line.StartsWith("Warning Microsoft.AspNetCore", StringComparison.Ordinal));

    private static string OpenAIErrorCode(string response) =>
        JsonDocument.Parse(RawHttp.BodyOf(response)).RootElement.GetProperty("error").GetProperty("code").GetString()!;

    [Fact]
    public async Task A_body_slower_than_the_minimum_data_rate_is_408()
    {
        // Kestrel checks the rate once a second after the grace period (which must exceed that second); its
        // default grace period of 5 s would also end in a 408, only later.
        var rate = new MinDataRate(bytesPerSecond: 1000, gracePeriod: TimeSpan.FromMilliseconds(1100));
        await using var host = await RelayHost.StartAsync(configure: builder => builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MinRequestBodyDataRate = rate));
        var (key, secret) = await host.CreateRelayKeyAsync();
        Assert.Same(rate, host.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits.MinRequestBodyDataRate);

        using var tcp = await RawHttp.StartBodyAsync(host.BaseUri, ChatHead(secret, "Content-Length: 100000"), Patience);
        await tcp.GetStream().WriteAsync("{\"model\":"u8.ToArray()); // then nothing more: the client stalls
        var (status, response) = await RawHttp.ReadResponseAsync(tcp, Patience);

        await AssertRefusedAndAuditedAsync(host, key.Id, status, response, 408, "request_body_timeout");
    }

    [Theory]
    [InlineData("5\r\n{\"mod\r\nZZ\r\n")] // not a chunk size
    [InlineData("5\r\n{\"model\"\r\n")] // a chunk longer than its size
    public async Task Broken_chunked_encoding_is_400(string chunks)
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();

        using var tcp = await RawHttp.StartBodyAsync(host.BaseUri, ChatHead(secret, "Transfer-Encoding: chunked"), Patience);
        await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes(chunks));
        var (status, response) = await RawHttp.ReadResponseAsync(tcp, Patience);

        await AssertRefusedAndAuditedAsync(host, key.Id, status, response, 400, "invalid_request_body");
    }

    [Theory]
    [InlineData(false)] // an orderly close (FIN)
    [InlineData(true)] // a reset (RST), as a killed process or a dropped network leaves it
    public async Task A_client_that_leaves_mid_body_is_audited_as_499(bool reset)
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();

        var tcp = await RawHttp.StartBodyAsync(host.BaseUri, ChatHead(secret, "Content-Length: 1000"), Patience);
        await tcp.GetStream().WriteAsync("{\"model\":\"gpt-4o-mini\","u8.ToArray());
        if (reset)
            tcp.Client.LingerState = new LingerOption(enable: true, seconds: 0);
        tcp.Dispose();

        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal((499, "client_closed_request"), (row.Status, row.ErrorCode));
        Assert.Empty(host.OpenAI.Requests);
        AssertNothingAboveInformationLogged(host);
    }

    [Theory]
    [InlineData(new byte[] { 0x7B, 0x22, 0x6D, 0x6F, 0x64, 0x65, 0x6C, 0x22, 0x3A, 0x22, 0x67, 0x70, 0x74, 0xFF, 0x22, 0x7D })] // {"model":"gpt\xFF"}
    [InlineData(new byte[] { 0x7B, 0x22, 0x6D, 0x22, 0x3A, 0x22, 0x63, 0x61, 0x66, 0xE9, 0x22, 0x7D })] // {"m":"caf\xE9"}: Latin-1, not UTF-8
    [InlineData(new byte[] { 0x7B, 0x22, 0x6D, 0x22, 0x3A, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x7D })] // an encoded lone surrogate
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF, 0x7B, 0x22, 0x6D, 0x22, 0x3A, 0x22, 0xC3, 0x22, 0x7D })] // after a byte-order mark, a cut sequence
    public async Task A_JSON_body_that_is_not_UTF_8_is_400_and_not_forwarded(byte[] body)
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();

        using var tcp = await RawHttp.StartBodyAsync(host.BaseUri, ChatHead(secret, $"Content-Length: {body.Length}"), Patience);
        await tcp.GetStream().WriteAsync(body);
        var (status, response) = await RawHttp.ReadResponseAsync(tcp, Patience);

        Assert.Contains("UTF-8", response);
        await AssertRefusedAndAuditedAsync(host, key.Id, status, response, 400, "invalid_request_body");
    }

    /// <summary>The client's fault answered with its status and code in OpenAI's shape, never forwarded, audited as such, logged quietly.</summary>
    private static async Task AssertRefusedAndAuditedAsync(RelayHost host, string relayKeyId, int status, string response, int expectedStatus, string code)
    {
        Assert.Equal(expectedStatus, status);
        Assert.Equal(code, OpenAIErrorCode(response));
        Assert.Empty(host.OpenAI.Requests);
        var row = Assert.Single(await host.RowsAsync(relayKeyId));
        Assert.Equal((expectedStatus, code), (row.Status, row.ErrorCode));
        AssertNothingAboveInformationLogged(host);
    }
}
