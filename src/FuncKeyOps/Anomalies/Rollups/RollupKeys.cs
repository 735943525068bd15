using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FuncKeyOps.Anomalies.Rollups;

/// <summary>
/// Row keys of rollup cells: <c>{dimension}|{provider key}|{value}</c>, each part escaped, so a cell has one key
/// whoever writes it (overwrite, never add) and the cells of one dimension and provider key are one row-key range.
/// </summary>
internal static class RollupKeys
{
    public const char Separator = '|';

    // The character after the separator: a part's range ends there.
    private const char AfterSeparator = '}';

    // Not a percent escape (those are two hex digits): cannot be the escape of any value.
    private const string NullPart = "%-";
    private const string DigestPart = "%~";

    // Long values (model names are the caller's text) are replaced by a digest: a row key is limited to 1 KiB.
    private const int MaxPartLength = 200;

    public static string Code(RollupDimension dimension) => dimension switch
    {
        RollupDimension.Version => "v",
        RollupDimension.RelayKey => "r",
        RollupDimension.Model => "m",
        RollupDimension.Tenant => "t",
        RollupDimension.Source => "s",
        _ => throw new ArgumentOutOfRangeException(nameof(dimension), dimension, null),
    };

    public static bool TryDimension(string rowKey, out RollupDimension dimension)
    {
        dimension = default;
        if (rowKey.Length < 2 || rowKey[1] != Separator)
            return false;
        foreach (var value in Enum.GetValues<RollupDimension>())
        {
            if (Code(value)[0] == rowKey[0])
            {
                dimension = value;
                return true;
            }
        }
        return false;
    }

    public static string RowKey(RollupDimension dimension, string? providerKey, string? value) =>
        string.Concat(Code(dimension), Separator.ToString(), Part(providerKey), Separator.ToString(), Part(value));

    /// <summary>The row-key range [<c>From</c>, <c>To</c>) of a dimension's cells, of one provider key's when given.</summary>
    public static (string From, string To) Range(RollupDimension dimension, string? providerKey)
    {
        var prefix = providerKey is null
            ? Code(dimension) + Separator
            : string.Concat(Code(dimension), Separator.ToString(), Part(providerKey), Separator.ToString());
        return (prefix, prefix[..^1] + AfterSeparator);
    }

    /// <summary>A value made safe as (part of) a key: forbidden characters escaped, null and long values marked.</summary>
    public static string Part(string? value)
    {
        if (value is null)
            return NullPart;
        if (value.Length > MaxPartLength)
            return DigestPart + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
        if (!value.AsSpan().ContainsAny(Escaped))
            return value;
        var text = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            if (Escaped.Contains(c))
                text.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            else
                text.Append(c);
        }
        return text.ToString();
    }

    // What Table Storage forbids in keys, the escape itself, the separator and the range end.
    private static readonly System.Buffers.SearchValues<char> Escaped = System.Buffers.SearchValues.Create(
        "/\\#?%|}" + new string([.. Enumerable.Range(0, 0x20).Select(i => (char)i)]) + new string([.. Enumerable.Range(0x7F, 0x21).Select(i => (char)i)]));
}
