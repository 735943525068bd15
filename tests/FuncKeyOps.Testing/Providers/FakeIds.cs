using System.Security.Cryptography;

namespace FuncKeyOps.Testing.Providers;

/// <summary>Random ids shaped like each provider's, so parsers that sniff prefixes behave as they would in production.</summary>
internal static class FakeIds
{
    private const string Alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const string Hexadecimal = "0123456789abcdef";

    public static string Alnum(int length) => RandomNumberGenerator.GetString(Alphanumeric, length);

    public static string Hex(int length) => RandomNumberGenerator.GetString(Hexadecimal, length);

    public static long UnixNow() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
