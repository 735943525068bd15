using System.Globalization;

namespace FuncKeyOps.ProviderKeys;

/// <summary>
/// A lease holder's fence token for writes to a <c>providerkeys</c> row: <paramref name="Holder"/> names what holds the
/// lease (a rotation), <paramref name="Token"/> grows with each lease taken on it. The holder stamps the row with it
/// before its first write (<see cref="ProviderKeyRegistry.FenceAsync"/>), and every fenced write reads the row and
/// writes it by ETag, refusing when the row bears a higher token of the same holder. So once a newer holder stamped
/// the row, a write an older one had begun (its read made, its request perhaps already on the wire) cannot land: its
/// ETag is stale, and the row read again names the newer token.
/// </summary>
public sealed record WriteFence(string Holder, long Token)
{
    public string ToColumn() => Holder + "#" + Token.ToString(CultureInfo.InvariantCulture);

    public static WriteFence? Parse(string? column)
    {
        var at = column?.LastIndexOf('#') ?? -1;
        return at > 0 && long.TryParse(column![(at + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var token)
            ? new WriteFence(column[..at], token)
            : null;
    }

    /// <summary>True when <paramref name="stored"/> is a newer token of the same holder: this one's lease was taken over.</summary>
    public bool IsSupersededBy(WriteFence? stored) => stored is not null && stored.Holder == Holder && stored.Token > Token;
}

/// <summary>A fenced write refused: a newer lease holder has taken over, so the step that tried it must stop.</summary>
public sealed class FencedOutException(string message) : InvalidOperationException(message);
