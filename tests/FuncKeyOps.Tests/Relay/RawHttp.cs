using System.Net.Sockets;
using System.Text;

namespace FuncKeyOps.Tests.Relay;

/// <summary>HTTP/1.1 over a socket, byte for byte: HttpClient would normalise the request target before sending it.</summary>
internal static class RawHttp
{
    public static async Task<(int Status, string Response)> SendAsync(Uri server, string method, string target, IDictionary<string, string> headers, string body)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        await using var stream = tcp.GetStream();
        var request = new StringBuilder($"{method} {target} HTTP/1.1\r\nHost: {server.Authority}\r\nConnection: close\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n");
        foreach (var (name, value) in headers)
            request.Append($"{name}: {value}\r\n");
        request.Append("\r\n").Append(body);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync();
        return (int.Parse(response.Split(' ')[1]), response);
    }

    /// <summary>
    /// Sends <paramref name="head"/> (request line and headers, without the blank line) with <c>Expect: 100-continue</c>
    /// and waits for Kestrel's <c>100 Continue</c>, which it sends only once the handler starts reading the body: the
    /// request is then known to be past authentication and inside the body read, with no sleep to get there.
    /// </summary>
    public static async Task<TcpClient> StartBodyAsync(Uri server, string head, TimeSpan timeout)
    {
        var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(server.Host, server.Port);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.UTF8.GetBytes($"{head}\r\nHost: {server.Authority}\r\nExpect: 100-continue\r\n\r\n"));
            using var cts = new CancellationTokenSource(timeout);
            var interim = new StringBuilder();
            var one = new byte[1];
            while (!interim.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                if (await stream.ReadAsync(one, cts.Token) == 0)
                    throw new IOException($"The server closed the connection before 100 Continue: {interim}");
                interim.Append((char)one[0]);
            }
            if (!interim.ToString().StartsWith("HTTP/1.1 100", StringComparison.Ordinal))
                throw new IOException($"Expected 100 Continue, got: {interim}");
            return tcp;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Reads the response until the server closes the connection; fails the test after <paramref name="timeout"/>.</summary>
    public static async Task<(int Status, string Response)> ReadResponseAsync(TcpClient tcp, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var reader = new StreamReader(tcp.GetStream(), Encoding.UTF8, leaveOpen: true);
        var response = await reader.ReadToEndAsync(cts.Token);
        return (int.Parse(response.Split(' ')[1]), response);
    }

    /// <summary>The body of a response read whole by this class.</summary>
    public static string BodyOf(string response) => response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
}
