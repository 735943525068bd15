using System.Net;
using FuncKeyOps.RelayKeys;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Relay;

/// <summary>
/// The client's address: the TCP peer, unless the peer is a trusted proxy, in which case the right-most
/// X-Forwarded-For entry that is not itself a trusted proxy. A header from an untrusted peer is ignored,
/// so a client cannot choose its own address.
/// </summary>
public sealed class SourceAddress(IReadOnlyList<IPNetwork> trustedProxies)
{
    public static SourceAddress From(IEnumerable<string> cidrs) => new(cidrs.Select(ParseTrustedProxy).ToArray());

    public IPAddress? Resolve(HttpContext context)
    {
        var peer = Normalize(context.Connection.RemoteIpAddress);
        if (peer is null || !IsTrusted(peer))
            return peer;
        var forwarded = context.Request.Headers["X-Forwarded-For"];
        for (var h = forwarded.Count - 1; h >= 0; h--)
        {
            var entries = (forwarded[h] ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            for (var i = entries.Length - 1; i >= 0; i--)
            {
                if (!TryParseEntry(entries[i], out var address))
                    return peer; // garbage in the chain: stop believing it
                if (!IsTrusted(address))
                    return address;
            }
        }
        return peer;
    }

    // An empty list trusts nobody (where an empty allow-list admits everybody).
    private bool IsTrusted(IPAddress address) => trustedProxies.Count > 0 && IpAllowList.Allows(trustedProxies, address);

    private static IPAddress? Normalize(IPAddress? address) =>
        address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;

    // Entries may carry a port ("1.2.3.4:5678", "[::1]:80").
    private static bool TryParseEntry(string entry, out IPAddress address)
    {
        if (IPEndPoint.TryParse(entry, out var endpoint))
        {
            address = Normalize(endpoint.Address)!;
            return true;
        }
        address = IPAddress.None;
        return false;
    }

    private static IPNetwork ParseTrustedProxy(string value) =>
        IpAllowList.TryParse(value, out var network, out var error)
            ? network
            : throw new InvalidOperationException($"Relay:TrustedProxies: {error}");
}
