using System.Globalization;

namespace FuncKeyOps.Providers;

/// <summary>
/// What a provider's rate-limit headers say about the key that made the call: OpenAI and Azure OpenAI send
/// <c>x-ratelimit-remaining-requests</c> / <c>-tokens</c>, Anthropic <c>anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-remaining</c>.
/// </summary>
internal static class RateLimitHeaders
{
    // The remaining counts a spent key reports as 0. Every provider sends them on its rate-limit 429s, and with room left
    // on a 429 about one request (OpenAI's "Request too large ... tokens per min"), which the key itself survives.
    private static readonly string[] Remaining =
    [
        "x-ratelimit-remaining-requests", "x-ratelimit-remaining-tokens",
        "anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-tokens-remaining",
        "anthropic-ratelimit-input-tokens-remaining", "anthropic-ratelimit-output-tokens-remaining",
    ];

    /// <summary>True when one of the key's limits shows nothing remaining; false when none does or there are no such headers.</summary>
    public static bool ShowSpent(HttpResponseMessage response)
    {
        foreach (var name in Remaining)
        {
            if (!response.Headers.TryGetValues(name, out var values))
                continue;
            foreach (var value in values)
            {
                // "0", or a negative count some gateways report once over: nothing left either way.
                if (long.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite,
                        CultureInfo.InvariantCulture, out var left) && left <= 0)
                    return true;
            }
        }
        return false;
    }
}
