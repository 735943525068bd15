using System.ClientModel;
using FuncKeyOps.Audit;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Testing.Providers;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;

namespace FuncKeyOps.Tests.Relay;

/// <summary>
/// During a rotation two versions of a provider key carry routing weight. A version the provider refuses, or that
/// cannot be reached before the first byte, is retried once on the other, so clients see no error; the audit keeps
/// one row per attempt, so the failed attempt counts against its own version.
/// </summary>
public class RetryOnOtherVersionTests
{

    [Fact]
    public async Task Every_call_succeeds_when_the_provider_refuses_one_of_two_weighted_versions_and_the_audit_shows_both_attempts()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        var (oldVersion, newVersion) = await WithSecondVersionAsync(host, oldWeight: 50, newWeight: 50);
        host.OpenAI.RevokeKey(host.ProviderKeyValues["openai"]);
        var chat = RelaySdks.OpenAIChat(host, secret, retry: false);

        const int calls = 40;
        for (var i = 0; i < calls; i++)
        {
            // Half streamed: the refusal comes before the stream's first byte, so a stream is retried as well.
            if (i % 2 == 0)
                Assert.Equal(host.OpenAI.ReplyText, (await chat.CompleteChatAsync([new UserChatMessage("hi")])).Value.Content[0].Text);
            else
                Assert.Equal(host.OpenAI.ReplyText, await StreamedTextAsync(chat));
        }

        var rows = await host.RowsAsync(key.Id);
        var served = rows.Where(r => r.Attempt != 1).ToList();
        Assert.Equal(calls, served.Count);
        Assert.All(served, r => Assert.Equal((200, newVersion, null), (r.Status, r.ProviderKeyVersion, r.ErrorCode)));
        var refused = rows.Where(r => r.Attempt == 1).ToList();
        Assert.NotEmpty(refused); // 40 calls at 50/50: all on the new version first has odds of 2^-40
        Assert.All(refused, r => Assert.Equal((502, "provider_key_rejected", 401, oldVersion), (r.Status, r.ErrorCode, r.UpstreamStatus, r.ProviderKeyVersion)));
        Assert.Equal(calls + refused.Count, host.OpenAI.Requests.Count);
        foreach (var attempt in refused)
        {
            var call = Assert.Single(served, r => attempt.RequestId == r.RequestId + AuditRecord.FirstAttemptSuffix);
            Assert.Equal((2, call.Streamed, call.BodySha256), (call.Attempt, attempt.Streamed, attempt.BodySha256));
        }
        Assert.All(served.Where(r => !refused.Any(a => a.RequestId == r.RequestId + AuditRecord.FirstAttemptSuffix)), r => Assert.Null(r.Attempt));
        // The sweep's view: by version, every attempt on the refused version failed and none on the other did.
        Assert.All(rows.Where(r => r.ProviderKeyVersion == oldVersion), r => Assert.NotNull(r.ErrorCode));
        Assert.All(rows.Where(r => r.ProviderKeyVersion == newVersion), r => Assert.Null(r.ErrorCode));
    }

    [Fact]
    public async Task Geminis_400_API_KEY_INVALID_is_a_refusal_retried_on_the_other_version_too()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        var (oldVersion, newVersion) = await WithSecondVersionAsync(host, oldWeight: 50, newWeight: 50, provider: "gemini");
        host.Gemini.RevokeKey(host.ProviderKeyValues["gemini"]);

        const int calls = 10;
        for (var i = 0; i < calls; i++)
        {
            var (status, _) = await RawHttp.SendAsync(host.BaseUri, "POST", "/api/relay/gemini/v1beta/models/gemini-2.0-flash:generateContent",
                new Dictionary<string, string> { ["x-goog-api-key"] = secret, ["Content-Type"] = "application/json" }, """{"contents":[]}""");
            Assert.Equal(200, status);
        }

        var rows = await host.RowsAsync(key.Id);
        Assert.Equal(calls, rows.Count(r => r.Status == 200 && r.ProviderKeyVersion == newVersion));
        Assert.All(rows.Where(r => r.Attempt == 1), r => Assert.Equal((oldVersion, "provider_key_rejected", 400), (r.ProviderKeyVersion, r.ErrorCode, r.UpstreamStatus)));
        Assert.Equal(calls + rows.Count(r => r.Attempt == 1), host.Gemini.Requests.Count);
    }

    [Theory]
    [InlineData("drop", 2)] // a connection failure is retried once (Relay:MaxRetries) on the same version first
    [InlineData("hang", 1)] // no headers in time is not retried on the same version
    public async Task A_version_unreachable_before_the_first_byte_is_retried_on_the_other_once_its_own_retries_are_spent(string fault, int sameVersionAttempts)
    {
        await using var host = await RelayHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Relay:MaxRetries"] = "1",
            ["Relay:UpstreamTimeout"] = "00:00:00.300",
        });
        var (key, secret) = await host.CreateRelayKeyAsync();
        await WithSecondVersionAsync(host, oldWeight: 50, newWeight: 50);
        if (fault == "drop")
            host.OpenAI.DropNext(sameVersionAttempts);
        else
            host.OpenAI.HangNext(sameVersionAttempts);

        var answer = await RelaySdks.OpenAIChat(host, secret, retry: false).CompleteChatAsync([new UserChatMessage("hi")]);
        host.OpenAI.ReleaseHangs();

        Assert.Equal(host.OpenAI.ReplyText, answer.Value.Content[0].Text);
        var sent = host.OpenAI.Requests.Select(r => r.Header("Authorization")).ToList();
        Assert.Equal(sameVersionAttempts + 1, sent.Count); // then the other version once
        Assert.All(sent.Take(sameVersionAttempts), key => Assert.Equal(sent[0], key));
        Assert.NotEqual(sent[0], sent[^1]);
        var rows = await host.RowsAsync(key.Id);
        var failed = Assert.Single(rows, r => r.Attempt == 1);
        var servedRow = Assert.Single(rows, r => r.Attempt == 2);
        var code = fault == "drop" ? "upstream_unreachable" : "upstream_timeout";
        Assert.Equal((code, servedRow.RequestId + AuditRecord.FirstAttemptSuffix), (failed.ErrorCode, failed.RequestId));
        Assert.Equal((200, null), (servedRow.Status, servedRow.ErrorCode));
        Assert.NotEqual(failed.ProviderKeyVersion, servedRow.ProviderKeyVersion);
    }

    [Fact]
    public async Task A_weighted_version_tagged_revoked_is_never_tried_again()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        // Revoked in the vault while its weight has not moved yet (an emergency, or a crash between the two writes).
        var (oldVersion, newVersion) = await WithSecondVersionAsync(host, oldWeight: 50, newWeight: 50, newState: "revoked");
        host.OpenAI.RevokeKey(host.ProviderKeyValues["openai"]);
        var chat = RelaySdks.OpenAIChat(host, secret, retry: false);

        const int calls = 20;
        var refusals = 0;
        for (var i = 0; i < calls; i++)
        {
            try
            {
                await chat.CompleteChatAsync([new UserChatMessage("hi")]);
            }
            catch (ClientResultException e) when (e.Status == 502)
            {
                refusals++;
            }
        }

        Assert.InRange(refusals, 1, calls - 1); // 20 calls at 50/50: odds of all on one version are 2^-19
        Assert.Equal(calls, host.OpenAI.Requests.Count); // no call had a second attempt
        var rows = await host.RowsAsync(key.Id);
        Assert.All(rows, r => Assert.Null(r.Attempt));
        Assert.All(rows.Where(r => r.Status == 502), r => Assert.Equal((oldVersion, "provider_key_rejected"), (r.ProviderKeyVersion, r.ErrorCode)));
        Assert.Equal(calls - refusals, rows.Count(r => r.Status == 200 && r.ProviderKeyVersion == newVersion));
    }

    [Fact]
    public async Task A_refused_version_alone_carrying_weight_gets_502_provider_key_rejected_with_no_second_attempt()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        // Staged and accepted by the provider, but without weight it must not serve, not even as a retry.
        var (oldVersion, _) = await WithSecondVersionAsync(host, oldWeight: 100, newWeight: 0);
        host.OpenAI.RevokeKey(host.ProviderKeyValues["openai"]);

        var error = await Assert.ThrowsAsync<ClientResultException>(() => RelaySdks.OpenAIChat(host, secret, retry: false).CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(502, error.Status);
        Assert.Single(host.OpenAI.Requests);
        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal((502, "provider_key_rejected", oldVersion, null), (row.Status, row.ErrorCode, row.ProviderKeyVersion, row.Attempt));
    }

    [Fact]
    public async Task A_stream_broken_after_its_first_byte_is_not_retried()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        await WithSecondVersionAsync(host, oldWeight: 50, newWeight: 50);
        host.OpenAI.DropNextStreamAfter(1);
        // Paced, so that the drop comes once the first delta has reached the client (an abort racing the response
        // headers would be a failure before the first byte, which the upstream client's own retries take).
        var pacer = new StreamPacer();
        host.OpenAI.Pacer = pacer;
        pacer.Release();
        var received = new System.Text.StringBuilder();

        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await foreach (var update in RelaySdks.OpenAIChat(host, secret, retry: false).CompleteChatStreamingAsync([new UserChatMessage("hi")]))
            {
                foreach (var part in update.ContentUpdate.Where(p => p.Text.Length > 0))
                {
                    received.Append(part.Text);
                    pacer.Release(); // the drop takes the next delta's place
                }
            }
        });

        Assert.Equal("Hello", received.ToString());
        Assert.Single(host.OpenAI.Requests);
        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal(("upstream_stream_broken", null), (row.ErrorCode, row.Attempt));
    }

    /// <summary>
    /// Adds a second version of <c>openai-main</c> (a value the fake accepts) and splits the routing weight between the
    /// version the host seeded (old) and it (new), as a canary does.
    /// </summary>
    internal static async Task<(string Old, string New)> WithSecondVersionAsync(RelayHost host, int oldWeight, int newWeight, string newState = "active", string provider = "openai")
    {
        var registry = host.Services.GetRequiredService<ProviderKeyRegistry>();
        var name = $"{provider}-main";
        var oldVersion = Assert.Single((await registry.GetAsync(name))!.Weights.Keys);
        var newValue = $"fake-{provider}-second-0123456789";
        var newVersion = host.Server.Vault.SetSecretDirect(name, newValue, new Dictionary<string, string> { ["state"] = newState });
        host.Fakes.All.Single(f => f.Provider == provider).Fake.AcceptKey(newValue);
        await registry.SetWeightsAsync(name, new Dictionary<string, int> { [oldVersion] = oldWeight, [newVersion] = newWeight });
        return (oldVersion, newVersion);
    }

    private static async Task<string> StreamedTextAsync(ChatClient chat)
    {
        var text = new System.Text.StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            foreach (var part in update.ContentUpdate)
                text.Append(part.Text);
        }
        return text.ToString();
    }
}
