using FuncKeyOps.Errors;

namespace FuncKeyOps.Relay;

/// <summary>
/// Tokens for a call the provider may bill but whose usage never arrived: an attempt abandoned at the upstream timeout
/// (the provider may go on and answer), a stream cut before its usage chunk (by the provider, a stall or the client).
/// Without them budgets and TPM ceilings would undercount exactly when something goes wrong. The row is marked
/// <see cref="RelayCall.TokensEstimated"/>; what the provider did report is kept, and the estimate only fills in.
/// </summary>
internal static class TokenEstimate
{
    // The usual rule of thumb for BPE tokenizers on English text and JSON; the request's JSON framing makes it an
    // overestimate, the safe side for a budget.
    private const int BytesPerToken = 4;

    /// <summary>Fills in the tokens of a call that was sent upstream and abandoned before its usage arrived.</summary>
    public static void Apply(RelayCall call)
    {
        if (!call.SentUpstream || !IsAbandoned(call.ErrorCode))
            return;
        var input = call.InputTokens ?? Ceiling(call.RequestBytes);
        // A streamed answer: one token per event streamed, the granularity of OpenAI's and Anthropic's deltas (Gemini's
        // chunks are larger: there it is a floor). A plain body: its bytes. Anthropic's message_start counts only the
        // start of the output, so what was streamed wins when it is more; a usage chunk that did arrive stands.
        var streamed = call.ResponseEvents > 0 ? call.ResponseEvents : Ceiling(call.ResponseBytes);
        var output = Math.Max(call.OutputTokens ?? 0, streamed);
        if (input == call.InputTokens && output == call.OutputTokens)
            return;
        (call.InputTokens, call.OutputTokens, call.TokensEstimated) = (input, output, true);
    }

    private static bool IsAbandoned(string? errorCode) =>
        errorCode == FuncKeyOpsErrors.UpstreamTimeout.Code || errorCode == FuncKeyOpsErrors.UpstreamStalled.Code
        || errorCode == FuncKeyOpsErrors.UpstreamStreamBroken.Code || errorCode == FuncKeyOpsErrors.ClientClosedRequest.Code
        || errorCode == FuncKeyOpsErrors.RelayError.Code;

    private static long Ceiling(long bytes) => (bytes + BytesPerToken - 1) / BytesPerToken;
}
