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
}
