using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// Anthropic's Admin API for API keys, served by <see cref="FakeAnthropic"/>: <c>GET /v1/organizations/api_keys</c>
/// (<c>limit</c>, <c>after_id</c>), <c>GET /v1/organizations/api_keys/{id}</c> and <c>POST /v1/organizations/api_keys/{id}</c>
/// (update <c>name</c> and <c>status</c>: <c>active</c>, <c>inactive</c>, <c>archived</c>). There is no create or delete,
/// as at the real API. Auth is <c>x-api-key</c> with an admin key (<see cref="AcceptAdminKey"/>) plus <c>anthropic-version</c>.
/// Keys show only a <c>partial_key_hint</c> (first 16 characters, "...", last 4); a key that is not active is refused
/// on the model calls. The messages usage report (<see cref="FakeAnthropicUsage"/>) takes the same admin keys.
/// </summary>
public sealed class FakeAnthropicAdmin
{
    private const string KeysPath = "/v1/organizations/api_keys";
    private static readonly string[] WritableStatuses = ["active", "inactive", "archived"];

    private readonly FakeAnthropic _fake;
    private readonly object _gate = new();
    private readonly HashSet<string> _adminKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredKey> _keys = new(StringComparer.Ordinal);

    internal FakeAnthropicAdmin(FakeAnthropic fake) => _fake = fake;

    public void AcceptAdminKey(string adminKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(adminKey);
        lock (_gate)
            _adminKeys.Add(adminKey);
    }

    /// <summary>A key an operator made in the Console: accepted on the model calls, listed by the Admin API. Returns its id.</summary>
    public string AddKey(string value, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        var id = "apikey_01" + FakeIds.Alnum(22);
        lock (_gate)
            Store(id, new StoredKey(value, name, "active"));
        return id;
    }

    /// <summary>The key's status now: <c>active</c>, <c>inactive</c> or <c>archived</c>.</summary>
    public string StatusOf(string id)
    {
        lock (_gate)
            return _keys[id].Status;
    }

    /// <summary>Sets a key's status as an operator would in the Console (e.g. <c>archived</c>).</summary>
    public void SetStatus(string id, string status)
    {
        lock (_gate)
            Store(id, _keys[id] with { Status = status });
    }

    internal static bool Serves(HttpRequest request) => request.Path.StartsWithSegments("/v1/organizations", StringComparison.Ordinal);

    internal async Task ServeAsync(FakeExchange exchange)
    {
        var request = exchange.Request;
        if (string.IsNullOrEmpty(request.Headers["anthropic-version"].ToString()))
        {
            await exchange.WriteJsonAsync(400, FakeAnthropic.Error(exchange, "invalid_request_error", "anthropic-version: header is required"));
            return;
        }

        var adminKey = request.Headers["x-api-key"].ToString();
        bool admin;
        lock (_gate)
            admin = _adminKeys.Contains(adminKey);
        if (!admin)
        {
            await exchange.WriteJsonAsync(401, FakeAnthropic.Error(exchange, "authentication_error", "invalid x-api-key"));
            return;
        }

        if (FakeAnthropicUsage.Serves(request.Path.Value ?? ""))
        {
            await FakeAnthropicUsage.ServeAsync(exchange, _fake.Billing);
            return;
        }

        var (status, body) = Answer(exchange);
        await exchange.WriteJsonAsync(status, body);
    }

    private (int, JsonNode) Answer(FakeExchange exchange)
    {
        var request = exchange.Request;
        var path = request.Path.Value ?? "";
        var id = path.StartsWith(KeysPath + "/", StringComparison.Ordinal) ? path[(KeysPath.Length + 1)..] : null;
        lock (_gate)
        {
            if (request.Method == "GET" && path == KeysPath)
                return (200, List(request.Query["limit"].ToString(), request.Query["after_id"].ToString()));
            if (id is null || !_keys.TryGetValue(id, out var key))
                return (404, FakeAnthropic.Error(exchange, "not_found_error", "The requested resource could not be found."));
            if (request.Method == "GET")
                return (200, key.ToJson(id));
            if (request.Method != "POST")
                return (405, FakeAnthropic.Error(exchange, "invalid_request_error", "Method not allowed."));

            var update = exchange.ReadJsonObject();
            var status = update?["status"]?.GetValue<string>() ?? key.Status;
            if (!WritableStatuses.Contains(status))
                return (400, FakeAnthropic.Error(exchange, "invalid_request_error", "status: Input should be 'active', 'inactive' or 'archived'"));
            if (key.Status == "archived" && status != "archived")
                return (400, FakeAnthropic.Error(exchange, "invalid_request_error", "An archived API key cannot be changed."));

            key = key with { Status = status, Name = update?["name"]?.GetValue<string>() ?? key.Name };
            Store(id, key);
            return (200, key.ToJson(id));
        }
    }

    /// <summary>Keeps the key and makes the model calls accept it only while it is active.</summary>
    private void Store(string id, StoredKey key)
    {
        _keys[id] = key;
        _fake.NameKey(key.Value, id);
        if (key.Status == "active")
            _fake.AcceptKey(key.Value);
        else
            _fake.RevokeKey(key.Value);
    }

    private JsonObject List(string limitText, string afterId)
    {
        var limit = int.TryParse(limitText, out var parsed) ? Math.Clamp(parsed, 1, 1000) : 20;
        var all = _keys.ToList();
        var start = afterId.Length > 0 ? all.FindIndex(k => k.Key == afterId) + 1 : 0;
        var page = all.Skip(start).Take(limit).ToArray();
        return new JsonObject
        {
            ["data"] = new JsonArray(page.Select(k => (JsonNode?)k.Value.ToJson(k.Key)).ToArray()),
            ["has_more"] = start + page.Length < all.Count,
            ["first_id"] = page.Length > 0 ? page[0].Key : null,
            ["last_id"] = page.Length > 0 ? page[^1].Key : null,
        };
    }

    private sealed record StoredKey(string Value, string Name, string Status)
    {
        public JsonObject ToJson(string id) => new()
        {
            ["id"] = id,
            ["type"] = "api_key",
            ["name"] = Name,
            ["partial_key_hint"] = Value[..Math.Min(16, Value.Length)] + "..." + Value[^4..],
            ["status"] = Status,
            ["created_at"] = "2026-11-01T00:00:00Z",
            ["created_by"] = new JsonObject { ["id"] = "user_01" + "FakeOperator", ["type"] = "user" },
            ["expires_at"] = null,
            ["workspace_id"] = null,
        };
    }
}
