namespace FuncKeyOps.ProviderKeys;

public enum ProviderKeyVerdict
{
    /// <summary>The provider answered the validation call with success.</summary>
    Accepted,

    /// <summary>The provider refused the key (its adapter says which answers mean that).</summary>
    Rejected,

    /// <summary>No answer: connection failure or no response headers in time.</summary>
    Unreachable,

    /// <summary>An answer that says nothing about the key (404 for a wrong base URL, 5xx after retries, 429).</summary>
    Inconclusive,
}
