using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FuncKeyOps.Audit;

/// <summary>Where an audit row lives: shard choice and a request id made safe as a RowKey.</summary>
internal static class AuditKeys
{
    // RowKeys are limited to 1 KiB (UTF-16); longer ids are replaced by a digest so the row is still written.
    private const int MaxRowKeyLength = 512;

    /// <summary>
    /// FNV-1a over the id's UTF-16 code units. Not <see cref="string.GetHashCode()"/>: that is randomised per
    /// process, and a retried row must land in the same partition whichever instance writes it.
    /// </summary>
    public static int Shard(string requestId, int shards)
    {
        var hash = 2166136261u;
        foreach (var c in requestId)
        {
            hash ^= c;
            hash *= 16777619u;
        }
        return (int)(hash % (uint)shards);
    }

    /// <summary>
    /// The request id with the characters Table Storage forbids in keys (<c>/ \ # ?</c>, control characters)
    /// percent-escaped, and <c>%</c> itself so that <see cref="FromRowKey"/> can undo it. Ordinary ids are unchanged.
    /// </summary>
    public static string ToRowKey(string requestId)
    {
        var key = requestId.AsSpan().ContainsAny(Forbidden) ? Escape(requestId) : requestId;
        if (key.Length <= MaxRowKeyLength)
            return key;
        return "~" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(requestId)));
    }

    public static string FromRowKey(string rowKey)
    {
        if (!rowKey.Contains('%'))
            return rowKey;
        var text = new StringBuilder(rowKey.Length);
        for (var i = 0; i < rowKey.Length; i++)
        {
            if (rowKey[i] == '%' && i + 2 < rowKey.Length
                && int.TryParse(rowKey.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
            {
                text.Append((char)code);
                i += 2;
            }
            else
            {
                text.Append(rowKey[i]);
            }
        }
        return text.ToString();
    }

    private static string Escape(string value)
    {
        var text = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            if (Forbidden.Contains(c))
                text.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            else
                text.Append(c);
        }
        return text.ToString();
    }

    private static readonly System.Buffers.SearchValues<char> Forbidden = System.Buffers.SearchValues.Create(
        "/\\#?%" + new string([.. Enumerable.Range(0, 0x20).Select(i => (char)i)]) + new string([.. Enumerable.Range(0x7F, 0x21).Select(i => (char)i)]));
}
