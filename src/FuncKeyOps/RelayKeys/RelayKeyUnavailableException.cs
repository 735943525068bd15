namespace FuncKeyOps.RelayKeys;

/// <summary>
/// A presented key could not be checked: Table Storage or Key Vault failed and nothing usable was cached.
/// Not the client's fault, so the relay answers 503 rather than 401. The message names the key id only.
/// </summary>
public sealed class RelayKeyUnavailableException(string message, Exception inner) : Exception(message, inner);
