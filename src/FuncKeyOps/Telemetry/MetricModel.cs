using System.Collections.Frozen;
using FuncKeyOps.Relay;

namespace FuncKeyOps.Telemetry;

/// <summary>
/// The <c>gen_ai.request.model</c> value of a call's metrics. A metric dimension is a time series per value, and the
/// model is the client's text: 60 made-up names made 60 series. So it is a bounded set: no model for a call that did
/// not pass the relay key's model allow-list; a name the key's own list holds (the operator's bound); a model the relay
/// knows (<see cref="Known"/>, dated snapshots folded into their model); else <see cref="Other"/>. The span and the
/// audit row keep the model as sent (masked): those are per call, not series.
/// </summary>
internal static class MetricModel
{
    public const string Other = "other";

    // The providers' current public models. A snapshot (gpt-4o-2024-08-06, claude-3-5-sonnet-20241022,
    // gemini-2.0-flash-001) counts as its model; a model missing here is 'other' until it is added.
    private static readonly FrozenSet<string> Known = new[]
    {
        "gpt-3.5-turbo", "gpt-4", "gpt-4-turbo", "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano",
        "gpt-4.5-preview", "gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-5-chat-latest", "chatgpt-4o-latest",
        "o1", "o1-mini", "o1-pro", "o3", "o3-mini", "o3-pro", "o4-mini",
        "gpt-4o-audio-preview", "gpt-4o-realtime-preview", "gpt-4o-mini-realtime-preview", "gpt-4o-search-preview", "gpt-4o-mini-search-preview",
        "text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002", "omni-moderation-latest",
        "claude-3-haiku", "claude-3-opus", "claude-3-sonnet", "claude-3-5-haiku", "claude-3-5-sonnet", "claude-3-7-sonnet",
        "claude-sonnet-4", "claude-opus-4", "claude-opus-4-1", "claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-5",
        "claude-3-5-haiku-latest", "claude-3-5-sonnet-latest", "claude-3-7-sonnet-latest",
        "gemini-1.5-flash", "gemini-1.5-flash-8b", "gemini-1.5-pro", "gemini-2.0-flash", "gemini-2.0-flash-lite",
        "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.5-pro", "gemini-embedding-001", "text-embedding-004",
    }.ToFrozenSet(StringComparer.Ordinal);

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> KnownBySpan = Known.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The call's model for metrics (see the type); null when it has none or did not pass the allow-list.</summary>
    public static string? For(RelayCall call)
    {
        if (call.Model is not { } model || !call.ModelAllowed)
            return null;
        // Passed a list: the operator wrote the name, the list bounds it.
        if (call.Key is { Models.Count: > 0 })
            return model;
        return KnownName(model) ?? Other;
    }

    /// <summary>The known model <paramref name="model"/> names (itself or a dated snapshot of it); null when none.</summary>
    public static string? KnownName(string model)
    {
        var name = model.AsSpan();
        if (KnownBySpan.TryGetValue(name, out var known))
            return known;
        // A snapshot: the model, then '-' and a version made of digits and dashes (2024-08-06, 20241022, 001).
        for (var dash = name.LastIndexOf('-'); dash > 0; dash = name[..dash].LastIndexOf('-'))
        {
            if (!IsVersion(name[(dash + 1)..]))
                break;
            if (KnownBySpan.TryGetValue(name[..dash], out known))
                return known;
        }
        return null;
    }

    private static bool IsVersion(ReadOnlySpan<char> part)
    {
        if (part.IsEmpty)
            return false;
        foreach (var c in part)
        {
            if (!char.IsAsciiDigit(c) && c != '-')
                return false;
        }
        return char.IsAsciiDigit(part[0]);
    }
}
