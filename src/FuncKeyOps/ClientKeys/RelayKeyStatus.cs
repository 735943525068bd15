namespace FuncKeyOps.ClientKeys;

public enum RelayKeyStatus { Active, Suspended, Revoked }
