using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Providers;
using FuncKeyOps.Routing;

namespace FuncKeyOps.Pools;

/// <summary>A <c>PUT pools/{name}</c> body: what an operator asks for, checked against the registered provider keys.</summary>
public sealed record PoolSpec(string? Provider, string? Mode, List<PoolMemberSpec?>? Members);

/// <param name="Key">A registered platform provider key of the pool's provider.</param>
/// <param name="Weight">Share of the calls in weighted mode, 0 to <see cref="PoolSpecValidator.MaxWeight"/>; absent is 1.</param>
/// <param name="Deployments">Azure OpenAI only: the deployment a client names -> this member's deployment.</param>
public sealed record PoolMemberSpec(string? Key, int? Weight, Dictionary<string, string>? Deployments);

/// <summary>Turns a <see cref="PoolSpec"/> into a <see cref="ProviderKeyPool"/>, or says which field is wrong.</summary>
internal static class PoolSpecValidator
{
    /// <summary>
    /// Bound on a pool's size: the pool is one table row (a property holds 64 KiB), and a longer failover list would
    /// only add latency to a failing call.
    /// </summary>
    public const int MaxMembers = 32;

    /// <summary>
    /// Bound on a member's weight: weights are shares, so 1000 is finer than any split needs, and the members' sum
    /// (at most <see cref="MaxMembers"/> x 1000) can never overflow the draw that picks the first member.
    /// </summary>
    public const int MaxWeight = 1000;

    public static string? Validate(string name, PoolSpec spec, IReadOnlyList<ProviderKeyConfig> keys, out ProviderKeyPool? pool)
    {
        pool = null;
        if (!ProviderKeyNames.IsValid(name))
            return ProviderKeyNames.Rule;
        if (spec.Provider is not { } provider || !ProviderNames.All.Contains(provider))
            return $"'provider' must be one of: {string.Join(", ", ProviderNames.All)}.";
        if (PoolModes.Parse(spec.Mode ?? PoolModes.Weighted) is not { } mode)
            return $"'mode' must be '{PoolModes.Weighted}' or '{PoolModes.Ordered}'.";
        if (spec.Members is not { Count: > 0 } given)
            return "'members' must list at least one provider key.";
        if (given.Count > MaxMembers)
            return $"'members' may list at most {MaxMembers} provider keys.";
        var byName = keys.ToDictionary(k => k.Name, StringComparer.Ordinal);
        var members = new List<PoolMember>(given.Count);
        for (var i = 0; i < given.Count; i++)
        {
            var error = ValidateMember(given[i], $"members[{i}]", provider, byName, members, out var member);
            if (error is not null)
                return error;
            members.Add(member!);
        }
        if (mode == PoolMode.Weighted && members.All(m => m.Weight == 0))
            return "In weighted mode at least one member needs a weight above 0.";
        pool = new ProviderKeyPool { Name = name, Provider = provider, Mode = mode, Members = members };
        return null;
    }

    private static string? ValidateMember(PoolMemberSpec? spec, string field, string provider, Dictionary<string, ProviderKeyConfig> keys,
        List<PoolMember> earlier, out PoolMember? member)
    {
        member = null;
        if (spec?.Key is not { Length: > 0 } keyName)
            return $"'{field}.key' must name a provider key.";
        if (!keys.TryGetValue(keyName, out var key))
            return $"'{field}.key': {Quote(keyName)} is not a registered provider key.";
        if (key.Tenant is not null)
            return $"'{field}.key': {Quote(keyName)} is a tenant's own key; only the platform's keys can be pool members.";
        if (key.Provider != provider)
            return $"'{field}.key': {Quote(keyName)} is a {key.Provider} key; this pool is for {provider}.";
        if (earlier.Any(m => m.KeyName == keyName))
            return $"'{field}.key': {Quote(keyName)} is listed twice.";
        if (spec.Weight is < 0 or > MaxWeight)
            return $"'{field}.weight' must be from 0 to {MaxWeight}.";
        var deployments = spec.Deployments ?? [];
        if (deployments.Count > 0 && provider != ProviderNames.AzureOpenAI)
            return $"'{field}.deployments' applies to {ProviderNames.AzureOpenAI} pools only.";
        if (deployments.FirstOrDefault(d => !IsDeploymentName(d.Key) || !IsDeploymentName(d.Value)) is { Key: not null } bad)
            return $"'{field}.deployments': {Quote(bad.Key)} -> {Quote(bad.Value)} is not a deployment name (1-64 letters, digits, '-', '_' or '.', starting with a letter or digit).";
        member = new PoolMember { KeyName = keyName, Weight = spec.Weight ?? 1, Deployments = deployments };
        return null;
    }

    // Azure OpenAI's characters for deployment names, starting with a letter or digit: they go into the request path,
    // so nothing that could change the path ('/', '..') may pass.
    private static bool IsDeploymentName(string name) =>
        name.Length is > 0 and <= 64 && char.IsAsciiLetterOrDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static string Quote(string value) => Admin.ApiErrors.Quote(value);
}
