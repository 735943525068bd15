using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// OpenAI's Admin API for project keys, served by <see cref="FakeOpenAI"/> under <c>/v1/organization/projects/{project_id}/</c>:
/// <c>POST service_accounts</c> (the account with its first key, value included), <c>DELETE service_accounts/{id}</c>
/// (its keys stop working), <c>POST service_accounts/{id}/api_keys</c> (a further key, value included),
/// <c>GET api_keys</c> (<c>limit</c>, <c>after</c>), <c>GET api_keys/{key_id}</c> and <c>DELETE api_keys/{key_id}</c>.
/// Auth is <c>Authorization: Bearer</c> with an admin key (<see cref="AcceptAdminKey"/>); model keys are refused there
/// and admin keys on the model calls. The organization usage API (<see cref="FakeOpenAIUsage"/>) takes the same admin keys. Lists and retrieves show only <c>redacted_value</c>, as the real API does, so a
/// connector cannot read a key's value twice. A created key is accepted on the model calls until it is deleted.
/// </summary>
public sealed class FakeOpenAIAdmin
{
    private const string ProjectsPrefix = "/v1/organization/projects/";

    private readonly FakeOpenAI _fake;
    private readonly object _gate = new();
    private readonly HashSet<string> _adminKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Project> _projects = new(StringComparer.Ordinal);
    private int _loseCreateAnswers;

    internal FakeOpenAIAdmin(FakeOpenAI fake) => _fake = fake;

    public void AcceptAdminKey(string adminKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(adminKey);
        lock (_gate)
            _adminKeys.Add(adminKey);
    }

    /// <summary>A new empty project; its id is what a provider key's <c>projectId</c> setting names.</summary>
    public string AddProject()
    {
        var id = "proj_" + FakeIds.Alnum(24);
        lock (_gate)
            _projects[id] = new Project();
        return id;
    }

    /// <summary>A service account made outside the connector (an operator's), without keys.</summary>
    public string AddServiceAccount(string projectId, string name)
    {
        lock (_gate)
            return ProjectOf(projectId).AddServiceAccount(name);
    }

    /// <summary>A key an operator made for the service account: accepted on the model calls until deleted. Returns its value and id.</summary>
    public (string Value, string KeyId) AddKey(string projectId, string serviceAccountId, string name)
    {
        lock (_gate)
        {
            var project = ProjectOf(projectId);
            if (!project.ServiceAccounts.ContainsKey(serviceAccountId))
                throw new ArgumentException($"No service account {serviceAccountId} in the project.", nameof(serviceAccountId));
            var key = project.CreateKey(serviceAccountId, name, _fake);
            return (key.Value, key.Public.Id);
        }
    }

    /// <summary>The next create (account or key) is made, then answered 500 instead: a create whose answer was lost.</summary>
    public void LoseNextCreateAnswer()
    {
        lock (_gate)
            _loseCreateAnswers++;
    }

    /// <summary>The keys the project holds now, without values.</summary>
    public IReadOnlyList<FakeOpenAIProjectKey> Keys(string projectId)
    {
        lock (_gate)
            return ProjectOf(projectId).Keys.Values.Select(k => k.Public).ToArray();
    }

    /// <summary>The service accounts' ids the project holds now.</summary>
    public IReadOnlyList<string> ServiceAccounts(string projectId)
    {
        lock (_gate)
            return ProjectOf(projectId).ServiceAccounts.Keys.ToArray();
    }

    internal static bool Serves(HttpRequest request) => request.Path.StartsWithSegments("/v1/organization", StringComparison.Ordinal);

    internal async Task ServeAsync(FakeExchange exchange)
    {
        var bearer = FakeOpenAI.ReadBearer(exchange.Request);
        bool admin;
        lock (_gate)
            admin = bearer is not null && _adminKeys.Contains(bearer);
        if (!admin)
        {
            await exchange.WriteJsonAsync(401, FakeOpenAI.Error("Incorrect API key provided. Admin API calls need an admin key.", "invalid_request_error", code: "invalid_api_key"));
            return;
        }

        var path = exchange.Request.Path.Value ?? "";
        if (FakeOpenAIUsage.Serves(path))
        {
            await FakeOpenAIUsage.ServeAsync(exchange, _fake.Billing);
            return;
        }

        var segments = path.StartsWith(ProjectsPrefix, StringComparison.Ordinal) ? path[ProjectsPrefix.Length..].Split('/') : [];
        var (status, body) = Answer(exchange, exchange.Request.Method, segments);
        if (exchange.Request.Method == "POST" && status == 200 && TakeLostAnswer())
            (status, body) = (500, FakeOpenAI.Error("The server had an error while processing your request. Sorry about that!", "server_error"));
        await exchange.WriteJsonAsync(status, body);
    }

    private (int, JsonNode) Answer(FakeExchange exchange, string method, string[] segments)
    {
        JsonObject? body = method == "POST" ? exchange.ReadJsonObject() : null;
        lock (_gate)
        {
            if (segments.Length < 2 || !_projects.TryGetValue(segments[0], out var project))
                return NotFound("No such project.");
            return (method, segments[1..]) switch
            {
                ("GET", ["api_keys"]) => (200, project.List(exchange.Request.Query["limit"].ToString(), exchange.Request.Query["after"].ToString())),
                ("GET", ["api_keys", var keyId]) => project.Keys.TryGetValue(keyId, out var key) ? (200, key.Public.ToJson(project.ServiceAccounts)) : NotFound($"No such API key: {keyId}."),
                ("DELETE", ["api_keys", var keyId]) => project.DeleteKey(keyId, _fake) ? (200, Deleted("organization.project.api_key.deleted", keyId)) : NotFound($"No such API key: {keyId}."),
                ("POST", ["service_accounts"]) => body?["name"]?.GetValue<string>() is { Length: > 0 } name
                    ? (200, project.CreateServiceAccount(name, _fake))
                    : (400, FakeOpenAI.Error("Missing required parameter: 'name'.", "invalid_request_error", "name", "missing_required_parameter")),
                ("DELETE", ["service_accounts", var accountId]) => project.DeleteServiceAccount(accountId, _fake)
                    ? (200, Deleted("organization.project.service_account.deleted", accountId))
                    : NotFound($"No such service account: {accountId}."),
                ("POST", ["service_accounts", var accountId, "api_keys"]) => project.ServiceAccounts.ContainsKey(accountId)
                    ? (200, project.CreateKey(accountId, body?["name"]?.GetValue<string>() ?? "Secret Key", _fake).Created)
                    : NotFound($"No such service account: {accountId}."),
                _ => (404, FakeOpenAI.Error($"Invalid URL ({method} {exchange.Request.Path.Value})", "invalid_request_error")),
            };
        }
    }

    private bool TakeLostAnswer()
    {
        lock (_gate)
            return _loseCreateAnswers > 0 && _loseCreateAnswers-- > 0;
    }

    private Project ProjectOf(string projectId) =>
        _projects.TryGetValue(projectId, out var project) ? project : throw new ArgumentException($"No project {projectId} at the fake.", nameof(projectId));

    private static (int, JsonNode) NotFound(string message) => (404, FakeOpenAI.Error(message, "invalid_request_error", code: "not_found"));

    private static JsonObject Deleted(string type, string id) => new() { ["object"] = type, ["id"] = id, ["deleted"] = true };

    private sealed class Project
    {
        public Dictionary<string, (string Name, long CreatedAt)> ServiceAccounts { get; } = new(StringComparer.Ordinal);

        // Insertion order is list order, as the real list is by creation.
        public Dictionary<string, StoredKey> Keys { get; } = new(StringComparer.Ordinal);

        public string AddServiceAccount(string name)
        {
            var id = "svc_acct_" + FakeIds.Hex(24);
            ServiceAccounts[id] = (name, FakeIds.UnixNow());
            return id;
        }

        public JsonObject CreateServiceAccount(string name, FakeOpenAI fake)
        {
            var id = AddServiceAccount(name);
            var account = Account(id);
            account["api_key"] = CreateKey(id, "Secret Key", fake).Created;
            return account;
        }

        public StoredKey CreateKey(string accountId, string name, FakeOpenAI fake)
        {
            var value = "fake-openai-sa-" + Guid.NewGuid().ToString("N");
            var key = new StoredKey(value, new FakeOpenAIProjectKey("key_" + FakeIds.Alnum(16), name, Redact(value), accountId, FakeIds.UnixNow()), Account(accountId));
            Keys[key.Public.Id] = key;
            fake.AcceptKey(value);
            fake.NameKey(value, key.Public.Id);
            return key;
        }

        public bool DeleteKey(string keyId, FakeOpenAI fake)
        {
            if (!Keys.Remove(keyId, out var key))
                return false;
            fake.RevokeKey(key.Value);
            return true;
        }

        public bool DeleteServiceAccount(string accountId, FakeOpenAI fake)
        {
            if (!ServiceAccounts.Remove(accountId))
                return false;
            foreach (var key in Keys.Values.Where(k => k.Public.ServiceAccountId == accountId).ToArray())
                DeleteKey(key.Public.Id, fake);
            return true;
        }

        public JsonObject List(string limitText, string after)
        {
            var limit = int.TryParse(limitText, out var parsed) ? Math.Clamp(parsed, 1, 100) : 20;
            var all = Keys.Values.Select(k => k.Public).ToList();
            var start = after.Length > 0 ? all.FindIndex(k => k.Id == after) + 1 : 0;
            var page = all.Skip(start).Take(limit).ToArray();
            return new JsonObject
            {
                ["object"] = "list",
                ["data"] = new JsonArray(page.Select(k => (JsonNode?)k.ToJson(ServiceAccounts)).ToArray()),
                ["first_id"] = page.FirstOrDefault()?.Id,
                ["last_id"] = page.LastOrDefault()?.Id,
                ["has_more"] = start + page.Length < all.Count,
            };
        }

        private JsonObject Account(string id) => new()
        {
            ["object"] = "organization.project.service_account",
            ["id"] = id,
            ["name"] = ServiceAccounts[id].Name,
            ["role"] = "member",
            ["created_at"] = ServiceAccounts[id].CreatedAt,
        };

        // As the real API: the value's own first and last characters around "...", so a value can be matched to its key.
        private static string Redact(string value) => value[..6] + "..." + value[^4..];
    }

    private sealed record StoredKey(string Value, FakeOpenAIProjectKey Public, JsonObject Owner)
    {
        /// <summary>The create answer: the only place a value is ever shown.</summary>
        public JsonObject Created => new()
        {
            ["object"] = "organization.project.service_account.api_key",
            ["id"] = Public.Id,
            ["name"] = Public.Name,
            ["value"] = Value,
            ["created_at"] = Public.CreatedAt,
            ["expires_at"] = null,
        };
    }
}

/// <summary>A project key as the Admin API lists it: never its value.</summary>
public sealed record FakeOpenAIProjectKey(string Id, string Name, string RedactedValue, string ServiceAccountId, long CreatedAt)
{
    internal JsonObject ToJson(IReadOnlyDictionary<string, (string Name, long CreatedAt)>? accounts = null) => new()
    {
        ["object"] = "organization.project.api_key",
        ["id"] = Id,
        ["name"] = Name,
        ["redacted_value"] = RedactedValue,
        ["created_at"] = CreatedAt,
        ["last_used_at"] = null,
        ["owner"] = new JsonObject
        {
            ["type"] = "service_account",
            ["service_account"] = new JsonObject
            {
                ["id"] = ServiceAccountId,
                ["name"] = accounts is not null && accounts.TryGetValue(ServiceAccountId, out var account) ? account.Name : null,
                ["role"] = "member",
            },
        },
    };
}
