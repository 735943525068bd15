namespace FuncKeyOps.ProviderKeys;

/// <param name="Status">The provider's HTTP status, when it answered. Never its body: it may quote the key.</param>
public sealed record ProviderKeyValidation(ProviderKeyVerdict Verdict, int? Status = null);
