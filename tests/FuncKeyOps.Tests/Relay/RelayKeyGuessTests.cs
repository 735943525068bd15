using System.Net;
using System.Text;
using FuncKeyOps.RelayKeys;

namespace FuncKeyOps.Tests.Relay;

/// <summary>
/// A wrong secret for an existing key id answers exactly like an unknown id (no oracle for which ids exist), and
/// is audited under that key so guessing at one key is visible; an unknown id is audited under no key.
/// </summary>
public class RelayKeyGuessTests
{
    [Fact]
    public async Task Wrong_secret_and_unknown_id_answer_the_same_and_only_the_existing_id_is_audited()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "guessed-tenant", Name = "target" });
        var wrongSecret = RelayKeyFormat.Compose(key.Id, RelayKeyFormat.NewSecret());
        var unknownId = RelayKeyFormat.Compose(RelayKeyFormat.NewId(), secret[^RelayKeyFormat.SecretLength..]);
        var malformed = secret[..^1];

        var requestIds = new Dictionary<string, List<string>> { ["wrong"] = [], ["unknown"] = [] };
        foreach (var provider in new[] { "openai", "anthropic", "gemini", "azure-openai" })
        {
            var bodies = new Dictionary<string, byte[]>();
            foreach (var (kind, presented) in new[] { ("wrong", wrongSecret), ("unknown", unknownId), ("malformed", malformed) })
            {
                using var response = await host.Client.SendAsync(Chat(provider, presented));
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
                bodies[kind] = await response.Content.ReadAsByteArrayAsync();
                if (requestIds.TryGetValue(kind, out var ids))
                    ids.Add(response.Headers.GetValues("x-fko-request-id").Single());
            }
            Assert.Equal(Encoding.UTF8.GetString(bodies["wrong"]), Encoding.UTF8.GetString(bodies["unknown"]));
            Assert.Equal(bodies["wrong"], bodies["unknown"]);
            Assert.Equal(bodies["wrong"], bodies["malformed"]);
        }

        var rows = await host.RowsAsync(null);
        foreach (var id in requestIds["wrong"])
        {
            var row = Assert.Single(rows, r => r.RequestId == id);
            Assert.Equal((key.Id, "guessed-tenant", 401, "invalid_relay_key"), (row.RelayKeyId, row.Tenant, row.Status, row.ErrorCode));
        }
        foreach (var id in requestIds["unknown"])
        {
            var row = Assert.Single(rows, r => r.RequestId == id);
            Assert.Equal((null, null, 401, "invalid_relay_key"), (row.RelayKeyId, row.Tenant, row.Status, row.ErrorCode));
        }
        // The key's own audit query shows the guesses at it.
        Assert.Equal(4, (await host.RowsAsync(key.Id)).Count(r => r.Status == 401));
        Assert.Empty(host.OpenAI.Requests);
    }

    private static HttpRequestMessage Chat(string provider, string relayKey)
    {
        var (path, header) = provider switch
        {
            "openai" => ("v1/chat/completions", "Authorization"),
            "anthropic" => ("v1/messages", "x-api-key"),
            "gemini" => ("v1beta/models/gemini-2.0-flash:generateContent", "x-goog-api-key"),
            _ => ("openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", "api-key"),
        };
        var request = new HttpRequestMessage(HttpMethod.Post, $"api/relay/{provider}/{path}")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","messages":[]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation(header, header == "Authorization" ? "Bearer " + relayKey : relayKey);
        return request;
    }
}
