namespace FuncKeyOps.RelayKeys;

public enum RelayKeyStatus { Active, Suspended, Revoked }
