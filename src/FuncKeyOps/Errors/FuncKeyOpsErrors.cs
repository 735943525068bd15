using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Errors;

/// <summary>
/// Every error code the relay and the admin API answer or audit, each once, with its status. The relay writes them
/// in the provider's error shape (<c>Relay/RelayErrors</c>), the admin API in its own (<c>Admin/ApiErrors</c>); a
/// concept both meet has one code on both (an unreadable body is <see cref="InvalidRequestBody"/> everywhere).
/// README.md lists them (a test keeps it in step).
/// </summary>
public static class FuncKeyOpsErrors
{
    // Request content, either surface.
    /// <summary>The body cannot be read as the JSON the call takes: not UTF-8, broken framing, not JSON, wrong shape or an unknown field.</summary>
    public static readonly FuncKeyOpsError InvalidRequestBody = new("invalid_request_body", StatusCodes.Status400BadRequest, "The body could not be read as the JSON this call takes.");
    /// <summary>Readable input whose values are refused: a field out of range, a bad query parameter.</summary>
    public static readonly FuncKeyOpsError InvalidRequest = new("invalid_request", StatusCodes.Status400BadRequest, "The request is not valid.");
    public static readonly FuncKeyOpsError RequestBodyTimeout = new("request_body_timeout", StatusCodes.Status408RequestTimeout, "The request body arrived too slowly.");
    public static readonly FuncKeyOpsError RequestTooLarge = new("request_too_large", StatusCodes.Status413PayloadTooLarge, "The request body is too large.");

    // Relay: the call as sent.
    public static readonly FuncKeyOpsError InvalidPath = new("invalid_path", StatusCodes.Status400BadRequest, "The path is not a plain provider path.");
    public static readonly FuncKeyOpsError InvalidHeader = new("invalid_header", StatusCodes.Status400BadRequest, "A header has characters that cannot be forwarded.");
    public static readonly FuncKeyOpsError UnknownProvider = new("unknown_provider", StatusCodes.Status404NotFound, "Unknown provider.");
    public static readonly FuncKeyOpsError ModelUnreadable = new("model_unreadable", StatusCodes.Status400BadRequest, "The request does not name exactly one model the relay can read.");
    public static readonly FuncKeyOpsError ModelNotAllowed = new("model_not_allowed", StatusCodes.Status403Forbidden, "This relay key may not use this model.");

    // Relay: the relay key and its limits.
    public static readonly FuncKeyOpsError InvalidRelayKey = new("invalid_relay_key", StatusCodes.Status401Unauthorized, "The relay key is not valid.");
    public static readonly FuncKeyOpsError ProviderNotAllowed = new("provider_not_allowed", StatusCodes.Status403Forbidden, "This relay key may not call this provider.");
    public static readonly FuncKeyOpsError IpNotAllowed = new("ip_not_allowed", StatusCodes.Status403Forbidden, "This relay key may not be used from this address.");
    public static readonly FuncKeyOpsError RateLimited = new("rpm", StatusCodes.Status429TooManyRequests, "This relay key's request rate limit was exceeded.");
    public static readonly FuncKeyOpsError DailyTokens = new("daily_tokens", StatusCodes.Status429TooManyRequests, "This relay key's daily token budget is used up.");
    public static readonly FuncKeyOpsError MonthlyTokens = new("monthly_tokens", StatusCodes.Status429TooManyRequests, "This relay key's monthly token budget is used up.");

    // Relay: its own dependencies.
    public static readonly FuncKeyOpsError AuditUnavailable = new("audit_unavailable", StatusCodes.Status503ServiceUnavailable, "The relay cannot record calls right now; try again shortly.");
    public static readonly FuncKeyOpsError RelayKeyUnavailable = new("relay_key_unavailable", StatusCodes.Status503ServiceUnavailable, "Relay keys cannot be checked right now; try again shortly.");
    public static readonly FuncKeyOpsError NoProviderKey = new("no_provider_key", StatusCodes.Status503ServiceUnavailable, "No provider key is registered for this provider.");
    public static readonly FuncKeyOpsError NoActiveProviderKey = new("no_active_provider_key", StatusCodes.Status503ServiceUnavailable, "The provider key has no active version yet; an operator must activate one.");
    /// <summary>The provider key or pool a relay key is bound to is not registered (for this provider): an operator's fix.</summary>
    public static readonly FuncKeyOpsError BoundProviderKeyMissing = new("bound_provider_key_missing", StatusCodes.Status503ServiceUnavailable, "The provider key or pool this relay key is bound to is not registered.");
    /// <summary>The tenant brings its own key for this provider, has none stored now, and its policy keeps it off the platform's key.</summary>
    public static readonly FuncKeyOpsError TenantKeyMissing = new("tenant_key_missing", StatusCodes.Status503ServiceUnavailable,
        "Your tenant brings its own key for this provider and has none stored; store one (PUT /api/tenants/{tenant}/provider-keys/{provider}).");
    public static readonly FuncKeyOpsError ProviderKeyUnavailable = new("provider_key_unavailable", StatusCodes.Status502BadGateway, "The provider key could not be read from Key Vault.");

    // Relay: the provider.
    /// <summary>
    /// The provider refused the relay's own provider key (its 401/403): the operator's problem, never the client's. A
    /// tenant's own key refused keeps this code with a message of its own (the relay's failure messages).
    /// </summary>
    public static readonly FuncKeyOpsError ProviderKeyRejected = new("provider_key_rejected", StatusCodes.Status502BadGateway,
        "The provider refused the relay's provider key; this is not a problem with your relay key. The relay operator can see it in the audit log.");
    public static readonly FuncKeyOpsError UpstreamTimeout = new("upstream_timeout", StatusCodes.Status504GatewayTimeout, "The provider did not answer in time.");
    public static readonly FuncKeyOpsError UpstreamUnreachable = new("upstream_unreachable", StatusCodes.Status502BadGateway, "The provider could not be reached.");
    public static readonly FuncKeyOpsError UpstreamError = new("upstream_error", StatusCodes.Status502BadGateway, "The provider failed.");
    /// <summary>
    /// Every provider key of the route is resting: its circuit open after 429s or failures, its own RPM/TPM ceiling
    /// reached, or the provider answered 429. Sent with the soonest member's Retry-After, so SDKs retry then.
    /// </summary>
    public static readonly FuncKeyOpsError ProviderKeysBusy = new("provider_keys_busy", StatusCodes.Status429TooManyRequests,
        "Every provider key that may serve this call is rate-limited or resting; try again after the time given.");
    // Audit only: the answer had started (or nobody is left to read one), so only the code is recorded; the status
    // is what the audit row carries for the last of them (nginx's 499), unused for the first two.
    /// <summary>The stream broke after the answer started, so the client sees a broken stream, not a body.</summary>
    public static readonly FuncKeyOpsError UpstreamStreamBroken = new("upstream_stream_broken", StatusCodes.Status502BadGateway, "The provider's stream broke.");
    /// <summary>The provider stopped sending mid-stream for longer than Relay:StreamIdleTimeout.</summary>
    public static readonly FuncKeyOpsError UpstreamStalled = new("upstream_stalled", StatusCodes.Status504GatewayTimeout, "The provider stopped sending.");
    /// <summary>The client left before the answer: nginx's 499, since no status of HTTP's own says it.</summary>
    public static readonly FuncKeyOpsError ClientClosedRequest = new("client_closed_request", 499, "The client closed the connection.");
    public static readonly FuncKeyOpsError RelayError = new("relay_error", StatusCodes.Status502BadGateway, "The relay failed to complete the call.");

    // Admin API.
    public static readonly FuncKeyOpsError Unauthorized = new("unauthorized", StatusCodes.Status401Unauthorized, "The admin key is not valid.");
    public static readonly FuncKeyOpsError AdminKeyUnavailable = new("admin_key_unavailable", StatusCodes.Status503ServiceUnavailable, "The admin key cannot be checked right now; try again shortly.");
    public static readonly FuncKeyOpsError StorageUnavailable = new("storage_unavailable", StatusCodes.Status503ServiceUnavailable, "Table Storage or Key Vault did not answer in time; try again shortly.");
    public static readonly FuncKeyOpsError NotFound = new("not_found", StatusCodes.Status404NotFound, "Not found.");
    public static readonly FuncKeyOpsError MethodNotAllowed = new("method_not_allowed", StatusCodes.Status405MethodNotAllowed, "This route does not take this method.");
    public static readonly FuncKeyOpsError Conflict = new("conflict", StatusCodes.Status409Conflict, "The change conflicts with the current state.");
    public static readonly FuncKeyOpsError ProviderKeyInUse = new("provider_key_in_use", StatusCodes.Status409Conflict, "The provider key serves its provider's traffic.");
    public static readonly FuncKeyOpsError RotationRunning = new("rotation_running", StatusCodes.Status409Conflict, "The provider key has a rotation that has not finished.");
    /// <summary>A staged value's <c>providerKeyId</c> that its connector could not confirm as the value's own key: revoke would act on it.</summary>
    public static readonly FuncKeyOpsError ProviderKeyIdRefused = new("provider_key_id_refused", StatusCodes.Status409Conflict,
        "The providerKeyId does not name the staged value's key at the provider; nothing was stored.");
    public static readonly FuncKeyOpsError ProviderKeyIdUnconfirmed = new("provider_key_id_unconfirmed", StatusCodes.Status502BadGateway,
        "The provider could not be asked whether the providerKeyId names the staged value's key; nothing was stored.");
    /// <summary>Staging a value the key already has as a version: a rotation would then "replace" the serving key with itself and revoke it.</summary>
    public static readonly FuncKeyOpsError ValueExists = new("value_exists", StatusCodes.Status409Conflict,
        "The provider key already has a version with this value; nothing was stored.");
    public static readonly FuncKeyOpsError VersionUnusable = new("version_unusable", StatusCodes.Status409Conflict, "The version is disabled or revoked and cannot be activated.");
    /// <summary>
    /// An activation's value refused by the provider: the same fact as <see cref="ProviderKeyRejected"/>, so the same
    /// code, but here the operator sent the value, so it is their request that cannot be processed (422), not a gateway fault.
    /// </summary>
    public static readonly FuncKeyOpsError ProviderKeyValueRejected = ProviderKeyRejected with
    {
        Status = StatusCodes.Status422UnprocessableEntity,
        Message = "The provider refused the value; nothing was changed.",
    };
    /// <summary>A tenant's own key refused by the provider when stored (BYOK): the tenant's input, so 400; nothing was stored.</summary>
    public static readonly FuncKeyOpsError TenantKeyRejected = new("tenant_key_rejected", StatusCodes.Status400BadRequest, "The provider refused the key; nothing was stored.");
    /// <summary>A relay key of another tenant, or one without the scope the call needs.</summary>
    public static readonly FuncKeyOpsError Forbidden = new("forbidden", StatusCodes.Status403Forbidden, "This credential may not make this call.");
    public static readonly FuncKeyOpsError ProviderUnreachable = new("provider_unreachable", StatusCodes.Status502BadGateway, "The provider could not be reached to validate the value; nothing was changed.");
    public static readonly FuncKeyOpsError ProviderValidationFailed = new("provider_validation_failed", StatusCodes.Status502BadGateway, "The provider's answer to the validation call says nothing about the value; nothing was changed.");

    /// <summary>Every entry, for documentation and tests.</summary>
    public static IReadOnlyList<FuncKeyOpsError> All { get; } =
    [
        InvalidRequestBody, InvalidRequest, RequestBodyTimeout, RequestTooLarge,
        InvalidPath, InvalidHeader, UnknownProvider, ModelUnreadable, ModelNotAllowed,
        InvalidRelayKey, ProviderNotAllowed, IpNotAllowed, RateLimited, DailyTokens, MonthlyTokens,
        AuditUnavailable, RelayKeyUnavailable, NoProviderKey, NoActiveProviderKey, BoundProviderKeyMissing, TenantKeyMissing, ProviderKeyUnavailable,
        ProviderKeyRejected, UpstreamTimeout, UpstreamUnreachable, UpstreamError, ProviderKeysBusy, UpstreamStreamBroken, UpstreamStalled,
        ClientClosedRequest, RelayError,
        Unauthorized, AdminKeyUnavailable, StorageUnavailable, NotFound, MethodNotAllowed, Conflict, ProviderKeyInUse, RotationRunning,
        VersionUnusable, ProviderKeyValueRejected, TenantKeyRejected, Forbidden, ProviderUnreachable, ProviderValidationFailed,
        ProviderKeyIdRefused, ProviderKeyIdUnconfirmed, ValueExists,
    ];

    /// <summary>
    /// A body the server could not read (Kestrel's <see cref="BadHttpRequestException"/> status, or 400 for one read
    /// whole and found malformed): the same code on the relay and the admin API.
    /// </summary>
    public static FuncKeyOpsError ForUnreadableBody(int status) => status switch
    {
        StatusCodes.Status408RequestTimeout => RequestBodyTimeout,
        StatusCodes.Status413PayloadTooLarge => RequestTooLarge,
        _ => InvalidRequestBody,
    };
}
