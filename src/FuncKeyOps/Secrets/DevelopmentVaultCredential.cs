using Azure.Core;

namespace FuncKeyOps.Secrets;

/// <summary>
/// A fixed bearer token for the local Key Vault-compatible test vault (`build.sh dev`, tests).
/// Real Key Vault rejects it, so selecting it by mistake fails closed.
/// </summary>
public sealed class DevelopmentVaultCredential : TokenCredential
{
    private static readonly AccessToken Token = new("funckeyops-development-token", DateTimeOffset.MaxValue);

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => Token;

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => new(Token);
}
