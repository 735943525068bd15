using System.Buffers;
using System.Security.Cryptography;
using System.Text.Unicode;
using FuncKeyOps.Providers;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Relay;

/// <summary>The request body, read once up to the limit and hashed as it is read (the audit keeps only the hash).</summary>
internal sealed class BufferedRequestBody : IDisposable
{
    private byte[] _buffer;

    private BufferedRequestBody(byte[] buffer, int length, string sha256)
    {
        _buffer = buffer;
        Length = length;
        Sha256 = sha256;
    }

    public int Length { get; }
    public string Sha256 { get; }
    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    /// <returns>Null when the body is larger than <paramref name="limit"/>.</returns>
    public static async Task<BufferedRequestBody?> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
            return null;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(request.ContentLength ?? 16 * 1024, 1024, limit + 1));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                        break;
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                    break;
                hash.AppendData(buffer, length, read);
                length += read;
            }
            if (length > limit)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return null;
            }
            EnsureJsonIsUtf8(buffer.AsSpan(0, length));
            return new BufferedRequestBody(buffer, length, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>
    /// JSON is UTF-8 (RFC 8259), and the adapters read the model from any body that starts like an object: one that is
    /// not UTF-8 would fail there, or be forwarded for the provider to refuse. It is the client's malformed body, so it
    /// is reported the way Kestrel reports one, as a <see cref="BadHttpRequestException"/> with 400.
    /// </summary>
    private static void EnsureJsonIsUtf8(ReadOnlySpan<byte> body)
    {
        if (JsonMarkers.StartsLikeObject(body.StartsWith(Utf8Bom) ? body[Utf8Bom.Length..] : body) && !Utf8.IsValid(body))
            throw new MalformedBodyException("The request body is JSON but not valid UTF-8.");
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
            ArrayPool<byte>.Shared.Return(buffer);
    }
}
