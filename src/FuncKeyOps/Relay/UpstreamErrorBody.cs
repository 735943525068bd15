using System.Text;
using FuncKeyOps.Logging;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Relay;

/// <summary>
/// Provider error responses are small; they are read whole so the provider key can be masked out of them
/// (Gemini's invalid-key error, for one, quotes the key it was given).
/// </summary>
internal static class UpstreamErrorBody
{
    private const int MaxBytes = 256 * 1024;

    /// <summary>The error body, up to 256 KiB (enough for any provider's error; a longer one is cut).</summary>
    public static async Task<byte[]> ReadAsync(HttpResponseMessage from, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await using (var stream = await from.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false))
        {
            var chunk = new byte[16 * 1024];
            int read;
            while (buffer.Length < MaxBytes && (read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
                buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>The provider's status, headers and <paramref name="bytes"/> (read by <see cref="ReadAsync"/>) with our key masked.</summary>
    public static async Task WriteRedactedAsync(byte[] bytes, HttpResponseMessage from, HttpResponse to, string providerKey, CancellationToken cancellationToken)
    {
        var text = Encoding.UTF8.GetString(bytes);
        if (text.Contains(providerKey, StringComparison.Ordinal))
            bytes = Encoding.UTF8.GetBytes(text.Replace(providerKey, SecretRedactor.Mask, StringComparison.Ordinal));
        ResponseHeaders.Copy(from, to, dropContentLength: true);
        to.ContentLength = bytes.Length;
        await to.Body.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
    }
}
