using System.Net;
using FuncKeyOps.Admin;

namespace FuncKeyOps.RelayKeys;

/// <summary>Checks a <see cref="RelayKeySpec"/> and normalises it (trimmed, lowercase providers, parsed networks, no duplicates).</summary>
public static class RelayKeySpecValidator
{
    /// <summary>Route names of the relay's providers.</summary>
    public static IReadOnlySet<string> KnownProviders => FuncKeyOps.Providers.ProviderNames.All;

    public const int MaxTextLength = 200;
    public const int MaxListLength = 100;

    /// <summary>The key the spec describes, status active; or <see cref="RelayKeyValidationException"/> listing every problem.</summary>
    public static RelayKey ToKey(RelayKeySpec spec, string id, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new List<string>();

        var tenant = RequiredText(spec.Tenant, "tenant", errors);
        var name = RequiredText(spec.Name, "name", errors);
        var providers = Providers(spec.Providers, errors);
        var models = Models(spec.Models, errors);
        var networks = Networks(spec.AllowedIps, errors);
        var bindings = Bindings(spec.ProviderKeys, providers, errors);
        var scopes = Scopes(spec.Scopes, errors);

        if (spec.ExpiresAt is { } expires && expires <= now)
            errors.Add($"expiresAt {expires:O} is not in the future.");
        NotNegative(spec.Rpm, "rpm", errors);
        NotNegative(spec.DailyTokens, "dailyTokens", errors);
        NotNegative(spec.MonthlyTokens, "monthlyTokens", errors);

        if (errors.Count > 0)
            throw new RelayKeyValidationException(errors);
        return new RelayKey
        {
            Id = id,
            Tenant = tenant!,
            Name = name!,
            Providers = providers,
            Models = models,
            AllowedIps = networks,
            ExpiresAt = spec.ExpiresAt,
            Rpm = spec.Rpm,
            DailyTokens = spec.DailyTokens,
            MonthlyTokens = spec.MonthlyTokens,
            ProviderKeys = bindings,
            Scopes = scopes,
            Status = RelayKeyStatus.Active,
            CreatedAt = now,
        };
    }

    /// <summary>
    /// <paramref name="key"/> with <paramref name="patch"/> applied, checked by the same rules as a new key; or
    /// <see cref="RelayKeyValidationException"/> listing every problem. Id, tenant, status and creation time stay.
    /// </summary>
    public static RelayKey Apply(RelayKey key, RelayKeyPatch patch, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(patch);
        var errors = new List<string>();
        // Null clears an optional field; these have no "unset" to return to ([] is how a list allows everything).
        if (patch.Has(nameof(RelayKeyPatch.Name)) && patch.Name is null)
            errors.Add("name cannot be null.");
        NotNullList(patch.Has(nameof(RelayKeyPatch.Providers)), patch.Providers, "providers", errors);
        NotNullList(patch.Has(nameof(RelayKeyPatch.Models)), patch.Models, "models", errors);
        NotNullList(patch.Has(nameof(RelayKeyPatch.AllowedIps)), patch.AllowedIps, "allowedIps", errors);
        NotNullList(patch.Has(nameof(RelayKeyPatch.Scopes)), patch.Scopes, "scopes", errors);
        if (errors.Count > 0)
            throw new RelayKeyValidationException(errors);

        var spec = new RelayKeySpec
        {
            Tenant = key.Tenant,
            Name = patch.Has(nameof(RelayKeyPatch.Name)) ? patch.Name : key.Name,
            Providers = patch.Has(nameof(RelayKeyPatch.Providers)) ? patch.Providers : key.Providers,
            Models = patch.Has(nameof(RelayKeyPatch.Models)) ? patch.Models : key.Models,
            AllowedIps = patch.Has(nameof(RelayKeyPatch.AllowedIps)) ? patch.AllowedIps : [.. key.AllowedIps.Select(n => n.ToString())],
            // Only a new expiry must lie ahead: an expired key may still have its limits changed.
            ExpiresAt = patch.Has(nameof(RelayKeyPatch.ExpiresAt)) ? patch.ExpiresAt : null,
            Rpm = patch.Has(nameof(RelayKeyPatch.Rpm)) ? patch.Rpm : key.Rpm,
            DailyTokens = patch.Has(nameof(RelayKeyPatch.DailyTokens)) ? patch.DailyTokens : key.DailyTokens,
            MonthlyTokens = patch.Has(nameof(RelayKeyPatch.MonthlyTokens)) ? patch.MonthlyTokens : key.MonthlyTokens,
            ProviderKeys = patch.Has(nameof(RelayKeyPatch.ProviderKeys)) ? patch.ProviderKeys : key.ProviderKeys,
            Scopes = patch.Has(nameof(RelayKeyPatch.Scopes)) ? patch.Scopes : key.Scopes,
        };
        return ToKey(spec, key.Id, now) with
        {
            ExpiresAt = patch.Has(nameof(RelayKeyPatch.ExpiresAt)) ? patch.ExpiresAt : key.ExpiresAt,
            Status = key.Status,
            CreatedAt = key.CreatedAt,
        };
    }

    private static void NotNullList(bool present, IReadOnlyList<string>? value, string field, List<string> errors)
    {
        if (present && value is null)
            errors.Add($"{field} cannot be null; [] allows every value.");
    }

    private static string? RequiredText(string? value, string field, List<string> errors)
    {
        var trimmed = value?.Trim();
        if (string.IsNullOrEmpty(trimmed))
            errors.Add($"{field} is required.");
        else if (trimmed.Length > MaxTextLength)
            errors.Add($"{field} is longer than {MaxTextLength} characters.");
        return trimmed;
    }

    private static string[] Providers(IReadOnlyList<string>? values, List<string> errors)
    {
        var result = new List<string>();
        foreach (var value in values ?? [])
        {
            var provider = value?.Trim().ToLowerInvariant() ?? "";
            if (!KnownProviders.Contains(provider))
                errors.Add($"providers: {Quote(value)} is not a provider; use {string.Join(", ", KnownProviders)}.");
            else if (!result.Contains(provider))
                result.Add(provider);
        }
        return [.. result];
    }

    /// <summary>
    /// Provider -> provider key or pool name: known providers (lowercased), each allowed by the key's providers when it
    /// lists any, and well-formed names. Whether a name is registered is checked against storage by
    /// <see cref="RelayKeyBindingCheck"/>, since this check reads nothing.
    /// </summary>
    private static Dictionary<string, string> Bindings(IReadOnlyDictionary<string, string>? values, string[] providers, List<string> errors)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (value, name) in values ?? new Dictionary<string, string>())
        {
            var provider = value.Trim().ToLowerInvariant();
            var target = name?.Trim();
            if (!KnownProviders.Contains(provider))
                errors.Add($"providerKeys: {Quote(value)} is not a provider; use {string.Join(", ", KnownProviders)}.");
            else if (providers.Length > 0 && !providers.Contains(provider))
                errors.Add($"providerKeys: {provider} is not in the key's providers.");
            else if (!FuncKeyOps.ProviderKeys.ProviderKeyNames.IsValid(target))
                errors.Add($"providerKeys.{provider}: a provider key or pool name is 1-{FuncKeyOps.ProviderKeys.ProviderKeyNames.MaxLength} letters, digits or '-'.");
            else if (!result.TryAdd(provider, target!))
                errors.Add($"providerKeys: {provider} is named twice.");
        }
        return result;
    }

    private static string[] Scopes(IReadOnlyList<string>? values, List<string> errors)
    {
        var result = new List<string>();
        foreach (var value in values ?? [])
        {
            var scope = value?.Trim().ToLowerInvariant() ?? "";
            if (!RelayKeyScopes.All.Contains(scope))
                errors.Add($"scopes: {Quote(value)} is not a scope; use {string.Join(", ", RelayKeyScopes.All)}.");
            else if (!result.Contains(scope))
                result.Add(scope);
        }
        return [.. result];
    }

    private static string[] Models(IReadOnlyList<string>? values, List<string> errors)
    {
        if (values is { Count: > MaxListLength })
            errors.Add($"models has more than {MaxListLength} entries.");
        var result = new List<string>();
        foreach (var value in values ?? [])
        {
            var model = value?.Trim() ?? "";
            if (model.Length == 0)
                errors.Add("models: an entry is empty.");
            else if (model.Length > MaxTextLength)
                errors.Add($"models: an entry is longer than {MaxTextLength} characters.");
            else if (!result.Contains(model, StringComparer.Ordinal))
                result.Add(model);
        }
        return [.. result];
    }

    private static IPNetwork[] Networks(IReadOnlyList<string>? values, List<string> errors)
    {
        if (values is { Count: > MaxListLength })
            errors.Add($"allowedIps has more than {MaxListLength} entries.");
        var result = new List<IPNetwork>();
        foreach (var value in values ?? [])
        {
            if (!IpAllowList.TryParse(value, out var network, out var error))
                errors.Add($"allowedIps: {error}.");
            else if (!result.Contains(network))
                result.Add(network);
        }
        return [.. result];
    }

    internal static string Quote(string? value) => ApiErrors.Quote(value);

    private static void NotNegative(long? value, string field, List<string> errors)
    {
        if (value < 0)
            errors.Add($"{field} must not be negative.");
    }
}
