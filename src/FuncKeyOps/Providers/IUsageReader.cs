namespace FuncKeyOps.Providers;

/// <summary>
/// Reads usage from one response while it streams to the client, with bounded memory.
/// The relay calls <see cref="OnSseEvent"/> for each complete SSE event of a <c>text/event-stream</c> response,
/// or <see cref="OnJsonBody"/> once with the whole body of any other response (only when it is at most
/// <see cref="MaxJsonBodyBytes"/>; larger bodies are streamed without usage).
/// </summary>
public interface IUsageReader
{
    const int MaxJsonBodyBytes = 4 * 1024 * 1024;

    /// <summary>One complete SSE event (its raw lines, without the blank line that ends it). False drops it from the client stream.</summary>
    bool OnSseEvent(ReadOnlySpan<byte> rawEvent);

    void OnJsonBody(ReadOnlySpan<byte> body);

    TokenUsage Usage { get; }
}
