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

    public static async Task CopyRedactedAsync(HttpResponseMessage from, HttpResponse to, string providerKey, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await using (var stream = await from.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false))
        {
            var chunk = new byte[16 * 1024];
            int read;
            while (buffer.Length < MaxBytes && (read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
                buffer.Write(chunk, 0, read);
        }
        var bytes = buffer.ToArray();
        var text = Encoding.UTF8.GetString(bytes);
        if (text.Contains(providerKey, StringComparison.Ordinal))
            bytes = Encoding.UTF8.GetBytes(text.Replace(providerKey, SecretRedactor.Mask, StringComparison.Ordinal));
        ResponseHeaders.Copy(from, to, dropContentLength: true);
        to.ContentLength = bytes.Length;
        await to.Body.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
    }
}
