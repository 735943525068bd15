namespace FuncKeyOps.Rotation.Connectors;

public enum KeyIdVerdict
{
    /// <summary>The provider says the id names the key whose value was staged; <see cref="KeyIdConfirmation.ProviderKeyId"/> is the id to record.</summary>
    Confirmed,
    /// <summary>The id names another key, no key, a form a staged value may not use, or a key outside the configured project or account.</summary>
    Refused,
    /// <summary>The provider could not be asked (or its admin credential was refused); nothing is known about the id.</summary>
    Failed,
}

/// <summary>
/// A connector's answer on whether a staged value's <c>providerKeyId</c> belongs to that value. The id becomes the
/// target of every later revoke (a refused validation, a rollback, the old version's revoke), so one an operator
/// mistyped, or one naming a key the relay does not own, would have the rotation delete that key.
/// </summary>
/// <param name="ProviderKeyId">For <see cref="KeyIdVerdict.Confirmed"/>: the id to tag, in the provider's canonical form.</param>
/// <param name="Detail">Why, without the value or any part of it.</param>
/// <param name="Transient">For <see cref="KeyIdVerdict.Failed"/>: worth asking again.</param>
public sealed record KeyIdConfirmation(KeyIdVerdict Verdict, string? ProviderKeyId = null, string? Detail = null, bool Transient = false)
{
    public static KeyIdConfirmation Confirmed(string providerKeyId) => new(KeyIdVerdict.Confirmed, providerKeyId);

    public static KeyIdConfirmation Refused(string detail) => new(KeyIdVerdict.Refused, Detail: detail);

    public static KeyIdConfirmation Failed(string detail, bool transient) => new(KeyIdVerdict.Failed, Detail: detail, Transient: transient);
}
