using FuncKeyOps.Errors;
using FuncKeyOps.Providers;
using FuncKeyOps.RelayKeys;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Relay;

/// <summary>A refusal in the relay's own terms, written in the provider's error shape.</summary>
internal readonly record struct Refusal(FuncKeyOpsError Error, string Message);

/// <summary>
/// A relay key's model allow-list applied to a planned call. With a list, a call goes upstream only when the relay
/// knows the one model it runs and that model is listed, or when it runs none (listing models). A call whose model
/// cannot be determined is refused, never forwarded on the hope that the provider reads it as the relay would.
/// </summary>
internal static class ModelAllowList
{
    public static Refusal? Check(RelayKey key, RequestPlan plan, HttpRequest request)
    {
        if (key.Models.Count == 0 || plan.ModelScope == ModelScope.None)
            return null;
        // The relay reads the body as sent; a provider that decompresses it first may read another model.
        if (plan.ModelScope == ModelScope.Unreadable || IsEncoded(request))
            return new Refusal(FuncKeyOpsErrors.ModelUnreadable,
                "This relay key is limited to some models, and the request does not name exactly one model the relay can read: send an uncompressed JSON object with one string \"model\".");
        if (plan.ModelScope != ModelScope.Named || plan.Model is null)
            return new Refusal(FuncKeyOpsErrors.ModelNotAllowed,
                "This relay key is limited to some models, and this call can run a model the relay cannot check.");
        return key.Models.Contains(plan.Model)
            ? null
            : new Refusal(FuncKeyOpsErrors.ModelNotAllowed, FuncKeyOpsErrors.ModelNotAllowed.Message);
    }

    private static bool IsEncoded(HttpRequest request)
    {
        foreach (var coding in request.Headers.ContentEncoding)
        {
            if (!string.IsNullOrWhiteSpace(coding) && !string.Equals(coding.Trim(), "identity", StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return false;
    }
}
