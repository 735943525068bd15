using System.Security.Cryptography;
using System.Text;
using FuncKeyOps.Secrets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Admin;

/// <summary>Checks the admin key a caller presents against the one in Key Vault.</summary>
public sealed partial class AdminAuth(SecretCache secrets, IOptions<AdminOptions> options, ILogger<AdminAuth> logger)
{
    public const string HeaderName = "x-fko-admin-key";

    private readonly string _secretName = options.Value.KeySecretName;

    public async Task<AdminAuthOutcome> CheckAsync(string? presented, CancellationToken cancellationToken = default)
    {
        // Checked before the vault is asked, so anonymous probes cost nothing.
        if (string.IsNullOrEmpty(presented))
            return AdminAuthOutcome.Missing;
        SecretValue expected;
        try
        {
            expected = await secrets.GetAsync(_secretName, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (SecretStoreException e)
        {
            LogUnavailable(logger, _secretName, e.Status);
            return AdminAuthOutcome.Unavailable;
        }
        return Matches(presented, expected.Value) ? AdminAuthOutcome.Authorized : AdminAuthOutcome.Wrong;
    }

    // Comparing digests gives both sides one length, so timing reveals neither how much matched nor the key's length.
    private static bool Matches(string presented, string expected)
    {
        Span<byte> a = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> b = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), a);
        SHA256.HashData(Encoding.UTF8.GetBytes(expected), b);
        return CryptographicOperations.FixedTimeEquals(a, b);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Admin request refused: the admin key secret {SecretName} could not be read (status {Status})")]
    private static partial void LogUnavailable(ILogger logger, string secretName, int? status);
}
