namespace FuncKeyOps.Rotation;

/// <summary>A rotation's state as the admin API shows it; every value but <see cref="Running"/> is final.</summary>
public enum RotationStatus { Running, Succeeded, RolledBack, Failed, Aborted }
