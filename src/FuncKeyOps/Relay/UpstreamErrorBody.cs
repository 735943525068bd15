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
    /// <remarks>For a caller that bounds the whole call itself (an activation's validation).</remarks>
    public static Task<byte[]> ReadAsync(HttpResponseMessage from, CancellationToken cancellationToken) =>
        ReadCoreAsync(from, idle: null, cancellationToken);

    /// <summary>
    /// As <see cref="ReadAsync(HttpResponseMessage, CancellationToken)"/> for a relayed call; throws
    /// <see cref="UpstreamStalledException"/> when the provider sends nothing for <paramref name="idleTimeout"/>.
    /// </summary>
    public static async Task<byte[]> ReadAsync(HttpResponseMessage from, TimeSpan idleTimeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var idle = new UpstreamIdleTimer(idleTimeout, time, cancellationToken);
        try
        {
            return await ReadCoreAsync(from, idle, idle.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (idle.IsStall(e))
        {
            throw new UpstreamStalledException(idle.Timeout);
        }
    }

    private static async Task<byte[]> ReadCoreAsync(HttpResponseMessage from, UpstreamIdleTimer? idle, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await using (var stream = await from.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false))
        {
            var chunk = new byte[16 * 1024];
            int read;
            while (buffer.Length < MaxBytes && (read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                idle?.Restart();
                buffer.Write(chunk, 0, read);
            }
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// The provider's status, headers and <paramref name="bytes"/> (read by <see cref="ReadAsync"/>) with our key masked,
    /// and its Retry-After, if any, read safely and cut to <paramref name="retryAfterCap"/> (<see cref="RetryAfterHeader"/>;
    /// one that does not parse is dropped).
    /// </summary>
    public static async Task WriteRedactedAsync(byte[] bytes, HttpResponseMessage from, HttpResponse to, string providerKey,
        TimeProvider time, TimeSpan retryAfterCap, CancellationToken cancellationToken)
    {
        var text = Encoding.UTF8.GetString(bytes);
        if (text.Contains(providerKey, StringComparison.Ordinal))
            bytes = Encoding.UTF8.GetBytes(text.Replace(providerKey, SecretRedactor.Mask, StringComparison.Ordinal));
        ResponseHeaders.Copy(from, to, dropContentLength: true);
        if (from.Headers.Contains("Retry-After"))
        {
            if (RetryAfterHeader.From(from, time, retryAfterCap) is { } wait)
                to.Headers.RetryAfter = RetryAfterHeader.Format(wait);
            else
                to.Headers.Remove("Retry-After");
        }
        to.ContentLength = bytes.Length;
        await to.Body.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
    }
}
