using System.Net;
using System.Net.Sockets;

namespace FuncKeyOps.Anomalies.Sweep;

/// <summary>
/// A source as the detectors count it: an IPv4 address as it is, an IPv6 address by its /64 (one subscriber's
/// network hands out addresses from a /64 at will, so counting them one by one would split one source into many).
/// </summary>
public static class SourceKey
{
    public const string Unknown = "unknown";

    public static string Of(string? sourceIp)
    {
        if (string.IsNullOrEmpty(sourceIp))
            return Unknown;
        if (!IPAddress.TryParse(sourceIp, out var address))
            return sourceIp;
        if (address.IsIPv4MappedToIPv6)
            return address.MapToIPv4().ToString();
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            return address.ToString();
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }
}
