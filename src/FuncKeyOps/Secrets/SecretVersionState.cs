namespace FuncKeyOps.Secrets;

/// <summary>
/// A provider key is one secret; each version one generation, labelled by tags
/// (compare AWS Secrets Manager's AWSPENDING/AWSCURRENT/AWSPREVIOUS).
/// </summary>
public enum SecretVersionState { Pending, Active, Previous, Revoked }
