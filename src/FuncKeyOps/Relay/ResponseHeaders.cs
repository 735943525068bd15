using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Relay;

/// <summary>Provider response status and headers to the client, minus hop-by-hop headers.</summary>
internal static class ResponseHeaders
{
    private static readonly HashSet<string> NeverCopied = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade", "Trailer", "TE",
        "Set-Cookie", "Alt-Svc", "Strict-Transport-Security",
    };

    public static void Copy(HttpResponseMessage from, HttpResponse to, bool dropContentLength)
    {
        to.StatusCode = (int)from.StatusCode;
        foreach (var (name, values) in from.Headers)
        {
            if (!NeverCopied.Contains(name))
                to.Headers[name] = values.ToArray();
        }
        foreach (var (name, values) in from.Content.Headers)
        {
            if (dropContentLength && string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase))
                continue;
            to.Headers[name] = values.ToArray();
        }
    }
}
