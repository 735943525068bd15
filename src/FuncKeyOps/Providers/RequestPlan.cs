namespace FuncKeyOps.Providers;

/// <param name="UpstreamBody">The bytes to forward (the client's, or rewritten).</param>
/// <param name="Model">Requested model or deployment, if it could be read.</param>
/// <param name="Streaming">The client asked for a stream.</param>
/// <param name="StripUsageOnlyChunk">The relay added stream usage the client did not ask for: drop that extra chunk on the way back.</param>
public sealed record RequestPlan(ReadOnlyMemory<byte> UpstreamBody, string? Model, bool Streaming, bool StripUsageOnlyChunk)
{
    /// <summary>Whether <see cref="Model"/> is the one model the call runs; a relay key limited to some models needs it to be.</summary>
    public ModelScope ModelScope { get; init; }
}
