namespace FuncKeyOps.Audit;

public enum AuditWhenFull
{
    /// <summary>The relay answers 503 in the provider's shape before forwarding: no call is served unaudited.</summary>
    Reject,

    /// <summary>Calls are served and their rows dropped, counted in <c>funckeyops.audit.dropped</c> and logged.</summary>
    Drop,
}
