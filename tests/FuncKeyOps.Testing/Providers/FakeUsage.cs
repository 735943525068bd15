namespace FuncKeyOps.Testing.Providers;

/// <summary>Token counts a fake reports for every call, in whatever shape its provider uses.</summary>
/// <remarks>Immutable so a response never mixes counts from two settings when a test swaps it mid-stream.</remarks>
public sealed record FakeUsage(int InputTokens = 11, int OutputTokens = 7)
{
    public int TotalTokens => InputTokens + OutputTokens;
}
