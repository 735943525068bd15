using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FuncKeyOps.Testing.Vault;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// management.azure.com for Cognitive Services accounts, over HTTPS: <c>POST {accountId}/listKeys</c> answers
/// <c>{key1, key2}</c>; <c>POST {accountId}/regenerateKey</c> with <c>{"keyName":"Key1"|"Key2"}</c> gives that slot a new
/// value and answers both. Each account is backed by a <see cref="FakeAzureOpenAI"/> that accepts exactly the two current
/// slot values (<see cref="AddAccount"/>): a regenerated slot's old value is refused at once.
/// </summary>
/// <remarks>
/// As on ARM: every call needs <c>?api-version=</c> (400 MissingApiVersionParameter) and <c>Authorization: Bearer</c>
/// (401 AuthenticationFailed when missing, InvalidAuthenticationToken when not <see cref="AcceptedToken"/> or one added by <see cref="AcceptToken"/>); an unknown
/// account is 404 ResourceNotFound; resource ids compare case-insensitively. Errors are <c>{"error":{"code","message"}}</c>.
/// </remarks>
public sealed partial class FakeArm : FakeAdminServer
{
    /// <summary>The token ARM accepts: the one <see cref="TestVaultCredential"/> hands out, so tests share one credential.</summary>
    public const string AcceptedToken = TestVaultCredential.FakeToken;

    private readonly ConcurrentDictionary<string, Account> _accounts = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, byte> _tokens = new(StringComparer.Ordinal) { [AcceptedToken] = 0 };

    private FakeArm()
        : base(https: true)
    {
    }

    private FakeArm(X509Certificate2 certificate)
        : base(certificate)
    {
    }

    public static Task<FakeArm> StartAsync() => StartAdminAsync(new FakeArm());

    /// <summary>Serves <paramref name="certificate"/> (the test vault's, for <c>build.sh dev</c>: the host pins that one certificate).</summary>
    public static Task<FakeArm> StartAsync(X509Certificate2 certificate) => StartAdminAsync(new FakeArm(certificate));

    /// <summary>Accepts <paramref name="token"/> too, as ARM accepts any identity's token (the dev host's credential has its own).</summary>
    public void AcceptToken(string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        _tokens[token] = 0;
    }

    /// <summary>An ARM id of a Cognitive Services account with a fresh subscription id.</summary>
    public static string NewAccountId(string accountName) =>
        $"/subscriptions/{Guid.NewGuid()}/resourceGroups/rg-funckeyops/providers/Microsoft.CognitiveServices/accounts/{accountName}";

    /// <summary>regenerateKey calls received (answered or refused).</summary>
    public int RegenerateCalls => Requests.Count(r => r.Method == "POST" && r.Path.EndsWith("/regenerateKey", StringComparison.OrdinalIgnoreCase));

    /// <summary>Registers an account whose data plane is <paramref name="dataPlane"/>, with two fresh slot values it accepts.</summary>
    public void AddAccount(string accountId, FakeAzureOpenAI dataPlane)
    {
        var account = new Account(dataPlane, NewValue(), NewValue());
        if (!_accounts.TryAdd(accountId, account))
        {
            throw new InvalidOperationException("The account exists already.");
        }

        dataPlane.AcceptKey(account.Key1);
        dataPlane.AcceptKey(account.Key2);
    }

    /// <summary>The account's current slot values.</summary>
    public (string Key1, string Key2) KeysOf(string accountId)
    {
        var account = _accounts[accountId];
        lock (account)
        {
            return (account.Key1, account.Key2);
        }
    }

    private protected override JsonNode FailureBody(int statusCode) => statusCode switch
    {
        429 => Error("TooManyRequests", "The request is being throttled."),
        >= 500 => Error("InternalServerError", "Encountered internal server error. Please try again."),
        403 => Error("AuthorizationFailed", "The client does not have authorization to perform action 'Microsoft.CognitiveServices/accounts/regenerateKey/action'."),
        _ => Error(statusCode.ToString(System.Globalization.CultureInfo.InvariantCulture), $"Request failed with status {statusCode}."),
    };

    private protected override Task ServeAsync(HttpContext context, RecordedRequest request)
    {
        if (context.Request.Query["api-version"].ToString().Length == 0)
        {
            return WriteJsonAsync(context, 400, Error("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests."));
        }

        var authorization = context.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return WriteJsonAsync(context, 401, Error("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."));
        }

        if (!_tokens.ContainsKey(authorization["Bearer ".Length..]))
        {
            return WriteJsonAsync(context, 401, Error("InvalidAuthenticationToken", "The access token is invalid."));
        }

        var action = AccountAction().Match(request.Path);
        if (request.Method != "POST" || !action.Success)
        {
            return WriteJsonAsync(context, 404, Error("NotFound", "The requested path is not found."));
        }

        if (!_accounts.TryGetValue(action.Groups["account"].Value, out var account))
        {
            return WriteJsonAsync(context, 404, Error("ResourceNotFound", "The Resource was not found."));
        }

        if (action.Groups["action"].Value.Equals("listKeys", StringComparison.OrdinalIgnoreCase))
        {
            return WriteJsonAsync(context, 200, account.Keys());
        }

        string? keyName;
        try
        {
            keyName = JsonNode.Parse(request.Body)?["keyName"]?.GetValue<string>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            keyName = null;
        }

        if (keyName is not ("Key1" or "Key2"))
        {
            return WriteJsonAsync(context, 400, Error("BadRequest", "The keyName must be Key1 or Key2."));
        }

        account.Regenerate(keyName);
        return WriteJsonAsync(context, 200, account.Keys());
    }

    private static JsonObject Error(string code, string message) => FakeAzureOpenAI.Error(code, message);

    // Azure's account keys are 32 hex digits (older accounts) or 84 characters; either is opaque to clients.
    private static string NewValue() => FakeIds.Hex(32);

    [GeneratedRegex("^(?<account>/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft.CognitiveServices/accounts/[^/]+)/(?<action>listKeys|regenerateKey)$", RegexOptions.IgnoreCase)]
    private static partial Regex AccountAction();

    private sealed class Account(FakeAzureOpenAI dataPlane, string key1, string key2)
    {
        public string Key1 { get; private set; } = key1;
        public string Key2 { get; private set; } = key2;

        public JsonObject Keys()
        {
            lock (this)
            {
                return new JsonObject { ["key1"] = Key1, ["key2"] = Key2 };
            }
        }

        public void Regenerate(string keyName)
        {
            lock (this)
            {
                var old = keyName == "Key1" ? Key1 : Key2;
                var fresh = NewValue();
                dataPlane.AcceptKey(fresh);
                dataPlane.RevokeKey(old);
                if (keyName == "Key1")
                {
                    Key1 = fresh;
                }
                else
                {
                    Key2 = fresh;
                }
            }
        }
    }
}
