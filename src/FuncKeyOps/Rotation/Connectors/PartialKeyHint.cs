namespace FuncKeyOps.Rotation.Connectors;

/// <summary>
/// A provider's redacted key hint, <c>sk-ant-api03-R2D...igAA</c>: the key's first and last characters around "...".
/// A value fits when it starts and ends with them; no hint part is kept, logged or returned.
/// </summary>
public static class PartialKeyHint
{
    private const string Ellipsis = "...";

    public static bool Fits(string? hint, string value)
    {
        if (string.IsNullOrEmpty(hint) || string.IsNullOrEmpty(value))
            return false;
        var cut = hint.IndexOf(Ellipsis, StringComparison.Ordinal);
        if (cut <= 0 || cut + Ellipsis.Length >= hint.Length)
            return false;
        var head = hint.AsSpan(0, cut);
        var tail = hint.AsSpan(cut + Ellipsis.Length);
        // Head and tail must not overlap in the value, or a short value could fit a hint of a longer key.
        return value.Length > head.Length + tail.Length
            && value.AsSpan().StartsWith(head, StringComparison.Ordinal)
            && value.AsSpan().EndsWith(tail, StringComparison.Ordinal);
    }
}
