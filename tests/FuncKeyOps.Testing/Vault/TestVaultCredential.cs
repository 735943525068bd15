using Azure.Core;

namespace FuncKeyOps.Testing.Vault;

/// <summary>
/// A credential for the test vault: it never contacts an identity provider and always returns the same
/// opaque token, because the vault only checks that a bearer token is present.
/// </summary>
public class TestVaultCredential : TokenCredential
{
    public const string FakeToken = "fko-test-vault-token";

    private long _tokenRequests;

    /// <summary>How many tokens the SDK asked for; it should cache one, so this stays small.</summary>
    public long TokenRequests => Interlocked.Read(ref _tokenRequests);

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _tokenRequests);
        // Far-future expiry: the SDK's refresh-ahead logic never kicks in during a test.
        return new AccessToken(FakeToken, DateTimeOffset.UtcNow.AddDays(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        => ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}
