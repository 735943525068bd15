using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace FuncKeyOps.RelayKeys;

/// <summary>Parses allow-list entries and answers whether a source address is allowed.</summary>
public static class IpAllowList
{
    /// <summary>A CIDR block, or a bare address meaning that address alone (/32 or /128).</summary>
    public static bool TryParse(string? text, out IPNetwork network, [NotNullWhen(false)] out string? error)
    {
        network = default;
        error = null;
        var trimmed = text?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            error = "an allowed IP entry is empty";
            return false;
        }
        // A zone id names an interface of one machine; it means nothing in a source allow-list.
        if (trimmed.Contains('%'))
        {
            error = $"{RelayKeySpecValidator.Quote(trimmed)} has an IPv6 zone id ('%'), which an allow-list cannot use";
            return false;
        }
        if (!trimmed.Contains('/'))
        {
            if (!IPAddress.TryParse(trimmed, out var address) || !LooksLikeAddress(trimmed))
            {
                error = $"{RelayKeySpecValidator.Quote(trimmed)} is not an IP address or CIDR block";
                return false;
            }
            network = new IPNetwork(address, address.GetAddressBytes().Length * 8);
            return true;
        }
        var slash = trimmed.IndexOf('/');
        if (!IPNetwork.TryParse(trimmed, out var parsed) || !LooksLikeAddress(trimmed[..slash]))
        {
            error = $"{RelayKeySpecValidator.Quote(trimmed)} is not a valid CIDR block (an address, '/', then a prefix length)";
            return false;
        }
        // IPNetwork quietly clears bits after the prefix; an entry like 10.0.0.1/8 is more likely a typo than a wish for 10.0.0.0/8.
        if (!parsed.BaseAddress.Equals(IPAddress.Parse(trimmed[..slash])))
        {
            error = $"{RelayKeySpecValidator.Quote(trimmed)} is not a valid CIDR block: bits are set after the prefix (the block would be {parsed})";
            return false;
        }
        network = parsed;
        return true;
    }

    /// <summary>True when the list is empty (any source) or one of its blocks contains the address.</summary>
    public static bool Allows(IReadOnlyList<IPNetwork> allowed, IPAddress? source)
    {
        if (allowed.Count == 0)
            return true;
        if (source is null)
            return false;
        if (source.IsIPv4MappedToIPv6)
            source = source.MapToIPv4();
        foreach (var network in allowed)
        {
            if (network.Contains(source))
                return true;
        }
        return false;
    }

    // IPAddress.TryParse accepts shorthands such as "10" or "10.1" (classful forms) that nobody means in an allow-list.
    private static bool LooksLikeAddress(string text) =>
        text.Contains(':') || text.Count(c => c == '.') == 3;
}
