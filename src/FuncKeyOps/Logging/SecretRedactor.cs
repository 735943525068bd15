using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace FuncKeyOps.Logging;

/// <summary>
/// Masks secrets in text bound for logs. Two rules: anything shaped like a provider or relay key or a bearer
/// credential, and every exact value this process has read from or written to the vault (shape-independent,
/// so a pepper or an admin key is caught too).
/// </summary>
public sealed partial class SecretRedactor
{
    public const string Mask = "[REDACTED]";

    // Values shorter than this are not tracked: masking every short string would eat ordinary words.
    private const int MinTrackedLength = 8;

    private readonly ConcurrentDictionary<string, byte> _known = new(StringComparer.Ordinal);

    /// <summary>Remembers a secret value so it is masked wherever it appears.</summary>
    public void Track(string? value)
    {
        if (value is { Length: >= MinTrackedLength })
            _known.TryAdd(value, 0);
    }

    public string Redact(string text)
    {
        if (string.IsNullOrEmpty(text))
            return text;
        foreach (var value in _known.Keys)
        {
            if (text.Contains(value, StringComparison.Ordinal))
                text = text.Replace(value, Mask, StringComparison.Ordinal);
        }
        return KeyShapes().Replace(text, m => m.Groups["keep"].Success ? m.Groups["keep"].Value + Mask : Mask);
    }

    // OpenAI/Anthropic (sk-...), Google (AIza...), our relay keys (fko_...) and a relay key's secret on its own
    // (43 base64url characters standing alone, as when pasted into a path segment), bearer tokens, JWTs,
    // and key-like parameters (api-key: x, key=x, x-api-key: x) whatever the value's shape.
    [GeneratedRegex(
        @"sk-[A-Za-z0-9_\-]{8,}" +
        @"|AIza[0-9A-Za-z_\-]{20,}" +
        @"|fko_[A-Za-z0-9]+_[A-Za-z0-9_\-]+" +
        @"|(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{43}(?![A-Za-z0-9_\-])" +
        @"|eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*" +
        @"|(?<keep>(?i:bearer)\s+)[A-Za-z0-9._~+/=\-]{8,}" +
        @"|(?<keep>(?i:(?:x-goog-api-key|x-api-key|api-key|apikey|key|x-fko-admin-key|password|secret))[""']?\s*[:=]\s*[""']?)[^\s""'&,;}]{8,}",
        RegexOptions.CultureInvariant)]
    private static partial Regex KeyShapes();
}
