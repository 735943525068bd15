using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// apikeys.googleapis.com (API Keys API v2) and oauth2.googleapis.com's token endpoint, managing the keys a
/// <see cref="FakeGemini"/> accepts: <c>POST /token</c> (JWT bearer grant: the assertion's RS256 signature is checked
/// against the service account's public key, its <c>aud</c> Google's token endpoint or this one and its scope cloud-platform),
/// <c>POST /v2/projects/{p}/locations/global/keys?keyId=</c> (a long-running operation: not done when answered, done on
/// the first <c>GET /v2/operations/{op}</c>; the new key's value is accepted by the Gemini fake at once), <c>GET</c> and
/// <c>DELETE /v2/projects/{p}/locations/global/keys/{id}</c> (delete: the Gemini fake refuses the value from then on),
/// <c>GET .../keys/{id}/keyString</c>. Admin calls need a token this fake issued. <c>{p}</c> is a project id or its number;
/// key names use the number, as Google's do.
/// </summary>
/// <remarks>
/// As at Google: a key id already used (a deleted key keeps its id, with <c>deleteTime</c> set) is 409 ALREADY_EXISTS,
/// deleting a deleted or unknown key is 404 NOT_FOUND, a bad assertion is 400 <c>invalid_grant</c>, a missing or unknown
/// token is 401 UNAUTHENTICATED. Queued faults (<see cref="FakeAdminServer.FailNext"/>) hit the API Keys calls, not the token endpoint.
/// </remarks>
public sealed partial class FakeGoogleApiKeys : FakeAdminServer
{
    private const string CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";
    // Google's libraries name Google's token endpoint as the audience wherever token_uri points; Google accepts it.
    private const string GoogleTokenAudience = "https://oauth2.googleapis.com/token";
    private const string KeyType = "type.googleapis.com/google.api.apikeys.v2.Key";

    private readonly FakeGemini _gemini;
    private readonly ConcurrentDictionary<string, RSA> _accounts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _projectNumbers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FakeApiKey> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, JsonObject> _operations = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    private FakeGoogleApiKeys(FakeGemini gemini)
        : base(https: false) => _gemini = gemini;

    public static Task<FakeGoogleApiKeys> StartAsync(FakeGemini gemini) => StartAdminAsync(new FakeGoogleApiKeys(gemini));

    /// <summary>The OAuth2 token endpoint; service-account JSON made here names it as <c>token_uri</c>.</summary>
    public Uri TokenUri => new(BaseUri, "token");

    /// <summary>Every key ever created, deleted ones included.</summary>
    public IReadOnlyList<FakeApiKey> Keys => _keys.Values.ToArray();

    /// <summary>Create calls received (answered or refused).</summary>
    public int CreateCalls => Requests.Count(r => r.Method == "POST" && KeysPath().IsMatch(r.Path));

    /// <summary>
    /// A service-account JSON key (the file Google's console downloads) whose <c>token_uri</c> is this fake. When
    /// <paramref name="registered"/> is false the fake does not know the account, as for a deleted key: its grants fail.
    /// </summary>
    public string CreateServiceAccount(string projectId, bool registered = true)
    {
        var email = $"fko-rotator-{FakeIds.Hex(6)}@{projectId}.iam.gserviceaccount.com";
        var rsa = RSA.Create(2048);
        if (registered)
        {
            _accounts[email] = rsa;
        }

        return new JsonObject
        {
            ["type"] = "service_account",
            ["project_id"] = projectId,
            ["private_key_id"] = FakeIds.Hex(40),
            ["private_key"] = rsa.ExportPkcs8PrivateKeyPem() + "\n",
            ["client_email"] = email,
            ["client_id"] = FakeIds.Hex(21),
            ["auth_uri"] = "https://accounts.google.com/o/oauth2/auth",
            ["token_uri"] = TokenUri.AbsoluteUri,
        }.ToJsonString();
    }

    private protected override bool TakesFaults(string path) => path != "/token";

    private protected override JsonNode FailureBody(int statusCode) => statusCode switch
    {
        401 => FakeGemini.Error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."),
        403 => FakeGemini.Error(403, "PERMISSION_DENIED", "Permission 'apikeys.keys.create' denied on resource."),
        429 => FakeGemini.Error(429, "RESOURCE_EXHAUSTED", "Quota exceeded."),
        503 => FakeGemini.Error(503, "UNAVAILABLE", "The service is currently unavailable."),
        >= 500 => FakeGemini.Error(statusCode, "INTERNAL", "Internal error encountered."),
        _ => FakeGemini.Error(statusCode, "FAILED_PRECONDITION", $"Request failed with status {statusCode}."),
    };

    private protected override Task ServeAsync(HttpContext context, RecordedRequest request)
    {
        if (request.Method == "POST" && request.Path == "/token")
        {
            return TokenAsync(context, request);
        }

        var bearer = context.Request.Headers.Authorization.ToString();
        if (!bearer.StartsWith("Bearer ", StringComparison.Ordinal) || !_tokens.ContainsKey(bearer["Bearer ".Length..]))
        {
            return WriteJsonAsync(context, 401, FakeGemini.Error(401, "UNAUTHENTICATED",
                "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential."));
        }

        if (KeysPath().Match(request.Path) is { Success: true } create && request.Method == "POST")
        {
            return CreateAsync(context, request, ProjectNumber(create.Groups["project"].Value));
        }

        if (KeyPath().Match(request.Path) is { Success: true } key)
        {
            var name = $"projects/{ProjectNumber(key.Groups["project"].Value)}/locations/global/keys/{key.Groups["id"].Value}";
            _keys.TryGetValue(name, out var found);
            return (request.Method, key.Groups["keyString"].Success) switch
            {
                ("GET", false) when found is not null => WriteJsonAsync(context, 200, found.ToJson(withKeyString: false)),
                ("GET", true) when found is { Deleted: false } => WriteJsonAsync(context, 200, new JsonObject { ["keyString"] = found.KeyString }),
                ("DELETE", false) when found is { Deleted: false } => DeleteAsync(context, found),
                _ => NotFoundAsync(context),
            };
        }

        if (request.Method == "GET" && request.Path.StartsWith("/v2/operations/", StringComparison.Ordinal)
            && _operations.TryGetValue(request.Path["/v2/".Length..], out var operation))
        {
            return WriteJsonAsync(context, 200, operation.DeepClone());
        }

        return NotFoundAsync(context);
    }

    private Task TokenAsync(HttpContext context, RecordedRequest request)
    {
        var form = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(request.Body));
        if (form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer" || !IsValidAssertion(form["assertion"].ToString()))
        {
            return WriteJsonAsync(context, 400, new JsonObject { ["error"] = "invalid_grant", ["error_description"] = "Invalid JWT Signature." });
        }

        var token = "ya29.fake-" + FakeIds.Alnum(40);
        _tokens[token] = 0;
        return WriteJsonAsync(context, 200, new JsonObject { ["access_token"] = token, ["expires_in"] = 3599, ["token_type"] = "Bearer" });
    }

    private bool IsValidAssertion(string assertion)
    {
        var parts = assertion.Split('.');
        if (parts.Length != 3)
        {
            return false;
        }

        try
        {
            var header = JsonNode.Parse(Base64Url.DecodeFromChars(parts[0]))!;
            var claims = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!;
            var issuer = claims["iss"]?.GetValue<string>() ?? "";
            return header["alg"]?.GetValue<string>() == "RS256"
                && _accounts.TryGetValue(issuer, out var key)
                && claims["aud"]?.GetValue<string>() is { } audience && (audience == GoogleTokenAudience || audience == TokenUri.AbsoluteUri)
                && (claims["scope"]?.GetValue<string>() ?? "").Split(' ').Contains(CloudPlatformScope)
                && claims["exp"]?.GetValue<long>() > DateTimeOffset.UtcNow.ToUnixTimeSeconds()
                && key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2]),
                    HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            return false;
        }
    }

    private Task CreateAsync(HttpContext context, RecordedRequest request, string projectNumber)
    {
        var keyId = context.Request.Query["keyId"].ToString();
        if (!KeyIdFormat().IsMatch(keyId))
        {
            return WriteJsonAsync(context, 400, FakeGemini.Error(400, "INVALID_ARGUMENT", "Invalid key id: it must match [a-z]([a-z0-9-]{0,61}[a-z0-9])?."));
        }

        JsonObject? body;
        try
        {
            body = JsonNode.Parse(request.Body) as JsonObject;
        }
        catch (JsonException)
        {
            body = null;
        }

        if (body is null)
        {
            return WriteJsonAsync(context, 400, FakeGemini.Error(400, "INVALID_ARGUMENT", "Invalid JSON payload received."));
        }

        return TryAddKey(projectNumber, keyId, body["displayName"]?.GetValue<string>() ?? "", body["restrictions"]?.DeepClone() as JsonObject ?? []) is { } key
            ? WriteJsonAsync(context, 200, NewOperation(key, done: false))
            : WriteJsonAsync(context, 409, FakeGemini.Error(409, "ALREADY_EXISTS", "Requested entity already exists"));
    }

    /// <summary>A key an operator made in the console (the Gemini fake accepts its value at once); null when the id is taken.</summary>
    public FakeApiKey? TryAddKey(string project, string keyId, string displayName, JsonObject? restrictions = null)
    {
        var name = $"projects/{ProjectNumber(project)}/locations/global/keys/{keyId}";
        FakeApiKey key;
        lock (_gate)
        {
            if (_keys.ContainsKey(name))
            {
                return null;
            }

            key = new FakeApiKey(name, keyId, "AIza" + FakeIds.Alnum(35), displayName, restrictions ?? [], Deleted: false);
            _keys[name] = key;
        }

        _gemini.AcceptKey(key.KeyString);
        return key;
    }

    private Task DeleteAsync(HttpContext context, FakeApiKey key)
    {
        var deleted = key with { Deleted = true };
        _keys[key.Name] = deleted;
        _gemini.RevokeKey(key.KeyString);
        return WriteJsonAsync(context, 200, NewOperation(deleted, done: true));
    }

    /// <summary>Stores the finished operation (served by <c>GET /v2/operations/{op}</c>) and returns it as first answered.</summary>
    private JsonObject NewOperation(FakeApiKey key, bool done)
    {
        var name = "operations/akmf.p7-" + FakeIds.Hex(24);
        var response = key.ToJson(withKeyString: !key.Deleted);
        response["@type"] = KeyType;
        _operations[name] = new JsonObject { ["name"] = name, ["done"] = true, ["response"] = response };
        return done ? (JsonObject)_operations[name].DeepClone() : new JsonObject { ["name"] = name };
    }

    private string ProjectNumber(string project) => project.All(char.IsAsciiDigit)
        ? project
        : _projectNumbers.GetOrAdd(project, _ => "10" + RandomNumberGenerator.GetString("0123456789", 10));

    private static Task NotFoundAsync(HttpContext context) =>
        WriteJsonAsync(context, 404, FakeGemini.Error(404, "NOT_FOUND", "Requested entity was not found."));

    [GeneratedRegex("^/v2/projects/(?<project>[^/]+)/locations/global/keys$")]
    private static partial Regex KeysPath();

    [GeneratedRegex("^/v2/projects/(?<project>[^/]+)/locations/global/keys/(?<id>[^/]+)(?<keyString>/keyString)?$")]
    private static partial Regex KeyPath();

    [GeneratedRegex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex KeyIdFormat();
}

/// <summary>A key as <see cref="FakeGoogleApiKeys"/> holds it.</summary>
public sealed record FakeApiKey(string Name, string KeyId, string KeyString, string DisplayName, JsonObject Restrictions, bool Deleted)
{
    public JsonObject ToJson(bool withKeyString)
    {
        var json = new JsonObject
        {
            ["name"] = Name,
            ["uid"] = KeyId + "-uid",
            ["displayName"] = DisplayName,
            ["restrictions"] = Restrictions.DeepClone(),
            ["createTime"] = "2026-01-01T00:00:00Z",
        };
        if (withKeyString)
        {
            json["keyString"] = KeyString;
        }

        if (Deleted)
        {
            json["deleteTime"] = "2026-01-02T00:00:00Z";
        }

        return json;
    }

    public override string ToString() => $"{Name} (deleted: {Deleted})";
}
