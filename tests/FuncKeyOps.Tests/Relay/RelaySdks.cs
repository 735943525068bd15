using System.ClientModel;
using System.ClientModel.Primitives;
using Anthropic;
using Anthropic.Core;
using Anthropic.Models.Messages;
using OpenAI;
using OpenAI.Chat;

namespace FuncKeyOps.Tests.Relay;

/// <summary>The official SDKs pointed at a relay host: only the base URL and the key differ from a direct setup.</summary>
internal static class RelaySdks
{
    /// <param name="retry">False: the SDK makes one attempt, so a test sees the relay's first answer.</param>
    public static ChatClient OpenAIChat(RelayHost host, string relayKey, bool retry = true) => OpenAIChat(host.RelayBase("openai"), relayKey, retry);

    /// <param name="relayBase">The relay's OpenAI base, <c>.../api/relay/openai/</c>, of whichever host.</param>
    public static ChatClient OpenAIChat(Uri relayBase, string relayKey, bool retry = true) =>
        new("gpt-4o-mini", new ApiKeyCredential(relayKey), new OpenAIClientOptions
        {
            Endpoint = new Uri(relayBase, "v1"),
            RetryPolicy = retry ? null : new ClientRetryPolicy(maxRetries: 0),
        });

    public static AnthropicClient Anthropic(RelayHost host, string relayKey) => Anthropic(host.RelayBase("anthropic"), relayKey);

    /// <param name="relayBase">The relay's Anthropic base, <c>.../api/relay/anthropic/</c>, of whichever host.</param>
    public static AnthropicClient Anthropic(Uri relayBase, string relayKey) =>
        new(new ClientOptions { BaseUrl = relayBase.ToString().TrimEnd('/'), ApiKey = relayKey, MaxRetries = 0 });

    public static MessageCreateParams AnthropicMessage() => new()
    {
        MaxTokens = 64,
        Model = "claude-sonnet-4-5-20250929",
        Messages = [new UserMessageParam("hi")],
    };
}
