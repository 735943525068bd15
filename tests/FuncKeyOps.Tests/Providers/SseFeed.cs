using System.Text;
using System.Text.RegularExpressions;
using FuncKeyOps.Providers;

namespace FuncKeyOps.Tests.Providers;

/// <summary>Feeds an SSE transcript to a usage reader event by event, the way the relay's tee does.</summary>
internal static partial class SseFeed
{
    /// <summary>The events the reader let through to the client, as text.</summary>
    public static List<string> Run(IUsageReader reader, string transcript)
    {
        var kept = new List<string>();
        foreach (var rawEvent in BlankLine().Split(transcript))
        {
            if (rawEvent.Length == 0)
                continue;
            if (reader.OnSseEvent(Encoding.UTF8.GetBytes(rawEvent)))
                kept.Add(rawEvent);
        }
        return kept;
    }

    public static TokenUsage Json(IUsageReader reader, string body)
    {
        reader.OnJsonBody(Encoding.UTF8.GetBytes(body));
        return reader.Usage;
    }

    [GeneratedRegex(@"\r?\n\r?\n|\r\r")]
    private static partial Regex BlankLine();
}
