using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Anthropic.Models.Messages;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Tests.Relay;
using OpenAI.Chat;

namespace FuncKeyOps.Tests.Functions;

/// <summary>
/// The official SDKs through the relay of the Functions app under a real Functions host: the Server host's
/// assertions (<see cref="SdkRelayTests"/>, <see cref="StreamingRelayTests"/>), with the audit rows and quota usage
/// read back from the Azurite the app wrote them to.
/// </summary>
public class FunctionsRelayTests(FunctionsApp app) : IClassFixture<FunctionsApp>
{
    [FunctionsHostFact]
    public async Task Health_is_200_under_the_Functions_host()
    {
        using var response = await app.Client.GetAsync("api/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [FunctionsHostFact]
    public async Task OpenAI_SDK_chat_is_answered_audited_and_counted_in_the_usage_table()
    {
        var (id, secret) = await app.CreateRelayKeyAsync(new { tenant = "tests", name = "counted", dailyTokens = 1_000_000 });
        var before = app.OpenAI.Requests.Count;

        var completion = (await RelaySdks.OpenAIChat(app.RelayBase("openai"), secret).CompleteChatAsync([new UserChatMessage("hi")])).Value;

        Assert.Equal(app.OpenAI.ReplyText, completion.Content[0].Text);
        var upstream = app.OpenAI.Requests[before];
        Assert.Equal("Bearer " + app.ProviderKeyValues["openai"], upstream.Header("authorization"));
        Assert.DoesNotContain(secret, string.Join("\n", upstream.Headers.Values));
        var row = Assert.Single(await app.RowsAsync(id, rows => rows.Count > 0));
        Assert.Equal((200, "openai", "gpt-4o-mini", "v1/chat/completions"), (row.Status, row.Provider, row.Model, row.Path));
        Assert.Equal((app.OpenAI.Usage.InputTokens, app.OpenAI.Usage.OutputTokens), (row.InputTokens!.Value, row.OutputTokens!.Value));
        Assert.Equal("openai-main", row.ProviderKeyName);
        Assert.Equal("tests", row.Tenant);

        var tokens = app.OpenAI.Usage.InputTokens + app.OpenAI.Usage.OutputTokens;
        var usage = await app.UsageRowAsync(id, TableKeys.DailyWindow(DateTimeOffset.UtcNow), r => r.GetInt64("Tokens") == tokens);
        Assert.Equal(1, usage.GetInt64("Requests"));
    }

    [FunctionsHostFact]
    public async Task OpenAI_SDK_streaming_keeps_the_usage_it_asked_for_and_is_audited()
    {
        var (id, secret) = await app.CreateRelayKeyAsync();
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in RelaySdks.OpenAIChat(app.RelayBase("openai"), secret).CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            foreach (var part in update.ContentUpdate)
                text.Append(part.Text);
            usage = update.Usage ?? usage;
        }

        Assert.Equal(app.OpenAI.ReplyText, text.ToString());
        Assert.NotNull(usage);
        Assert.Equal(app.OpenAI.Usage.InputTokens, usage.InputTokenCount);
        var row = Assert.Single(await app.RowsAsync(id, rows => rows.Count > 0));
        Assert.True(row.Streamed);
        Assert.Equal(app.OpenAI.Usage.OutputTokens, row.OutputTokens);
    }

    /// <summary>
    /// A log line written outside any function invocation reaches the host's output: the 80 % budget warning is
    /// logged by the quota flusher, a background service, after the call that crossed it has finished.
    /// </summary>
    [FunctionsHostFact]
    public async Task A_background_warning_of_the_worker_appears_in_the_host_output()
    {
        var tokens = app.OpenAI.Usage.InputTokens + app.OpenAI.Usage.OutputTokens;
        var (id, secret) = await app.CreateRelayKeyAsync(new { tenant = "tests", name = "warned", dailyTokens = tokens });
        await RelaySdks.OpenAIChat(app.RelayBase("openai"), secret).CompleteChatAsync([new UserChatMessage("hi")]);
        // The flush that logs the warning claims this row first: the warning is on its way by then.
        await app.UsageRowAsync(id, "budget80-" + TableKeys.DailyWindow(DateTimeOffset.UtcNow), _ => true);

        await app.OutputContainsAsync($"Relay key {id} has used {tokens} of its {tokens} token budget");
        // What an invocation logs (here: activating the fixture's key) the worker sends the host itself: shown once.
        Assert.Single(app.Host.Output.Split('\n'), line => line.Contains("Validation call for provider key openai-main answered 200"));
    }

    [FunctionsHostTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Each_chunk_reaches_the_client_before_the_next_is_sent(bool clientAsksForUsage)
    {
        var (_, secret) = await app.CreateRelayKeyAsync();
        await UnbufferedStream.AssertEachChunkArrivesBeforeTheNextIsSentAsync(app.Client, app.OpenAI, secret, clientAsksForUsage);
    }

    [FunctionsHostFact]
    public async Task Anthropic_SDK_is_answered_and_audited_with_usage()
    {
        var (id, secret) = await app.CreateRelayKeyAsync();
        using var client = RelaySdks.Anthropic(app.RelayBase("anthropic"), secret);
        var before = app.Anthropic.Requests.Count;

        var message = await client.Messages.Create(RelaySdks.AnthropicMessage());

        Assert.True(message.Content[0].TryPickText(out var text));
        Assert.Equal(app.Anthropic.ReplyText, text.Text);
        var upstream = app.Anthropic.Requests[before];
        Assert.Equal(app.ProviderKeyValues["anthropic"], upstream.Header("x-api-key"));
        Assert.Null(upstream.Header("authorization"));
        var row = Assert.Single(await app.RowsAsync(id, rows => rows.Count > 0));
        Assert.Equal((200, app.Anthropic.Usage.InputTokens, app.Anthropic.Usage.OutputTokens), (row.Status, row.InputTokens!.Value, row.OutputTokens!.Value));
        Assert.Equal("claude-sonnet-4-5-20250929", row.Model);
    }

    [FunctionsHostFact]
    public async Task Anthropic_SDK_streaming_is_answered_and_audited_with_usage()
    {
        var (id, secret) = await app.CreateRelayKeyAsync();
        using var client = RelaySdks.Anthropic(app.RelayBase("anthropic"), secret);

        var text = new StringBuilder();
        await foreach (var streamEvent in client.Messages.CreateStreaming(RelaySdks.AnthropicMessage()))
        {
            if (streamEvent.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var part))
                text.Append(part.Text);
        }

        Assert.Equal(app.Anthropic.ReplyText, text.ToString());
        var row = Assert.Single(await app.RowsAsync(id, rows => rows.Count > 0));
        Assert.True(row.Streamed);
        Assert.Equal((app.Anthropic.Usage.InputTokens, app.Anthropic.Usage.OutputTokens), (row.InputTokens!.Value, row.OutputTokens!.Value));
    }

    [FunctionsHostFact]
    public async Task Gemini_and_Azure_OpenAI_in_their_own_formats_are_answered()
    {
        var (id, secret) = await app.CreateRelayKeyAsync();
        using var gemini = await app.Client.PostAsync($"api/relay/gemini/v1beta/models/gemini-2.0-flash:generateContent?key={secret}",
            new StringContent("""{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}""", Encoding.UTF8, "application/json"));
        using var azure = new HttpRequestMessage(HttpMethod.Post, "api/relay/azure-openai/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21")
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        azure.Headers.Add("api-key", secret);
        using var azureResponse = await app.Client.SendAsync(azure);

        Assert.Equal(HttpStatusCode.OK, gemini.StatusCode);
        Assert.Equal(HttpStatusCode.OK, azureResponse.StatusCode);
        Assert.Equal(app.ProviderKeyValues["gemini"], app.Gemini.Requests[^1].Header("x-goog-api-key"));
        Assert.DoesNotContain("key=", app.Gemini.Requests[^1].Query);
        Assert.Equal(app.ProviderKeyValues["azure-openai"], app.Azure.Requests[^1].Header("api-key"));
        var rows = await app.RowsAsync(id, rows => rows.Count == 2);
        Assert.Equal(["azure-openai", "gemini"], rows.Select(r => r.Provider).Order());
    }
}
