using System.Buffers.Binary;
using System.Text.Json.Nodes;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// The chat-completions and embeddings wire format shared by OpenAI and Azure OpenAI.
/// Azure differs in ways a relay's usage parser trips over, so they are reproduced:
/// content-filter results everywhere, and a first stream chunk with <c>choices: []</c>
/// and an empty model that is not the usage chunk.
/// </summary>
internal sealed class OpenAIChatFormat(bool azure)
{
    /// <summary>Model, stream and include_usage as the request asked; null model when absent.</summary>
    public static (string? Model, bool Stream, bool IncludeUsage) ReadChatRequest(JsonObject body) =>
        (body["model"] is JsonValue model && model.TryGetValue(out string? name) ? name : null,
         body["stream"] is JsonValue stream && stream.TryGetValue(out bool streaming) && streaming,
         body["stream_options"]?["include_usage"] is JsonValue include && include.TryGetValue(out bool included) && included);

    public static JsonObject Usage(FakeUsage usage) => new()
    {
        ["prompt_tokens"] = usage.InputTokens,
        ["completion_tokens"] = usage.OutputTokens,
        ["total_tokens"] = usage.TotalTokens,
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = 0, ["audio_tokens"] = 0 },
        ["completion_tokens_details"] = new JsonObject
        {
            ["reasoning_tokens"] = 0,
            ["audio_tokens"] = 0,
            ["accepted_prediction_tokens"] = 0,
            ["rejected_prediction_tokens"] = 0,
        },
    };

    public JsonObject Completion(string model, string text, FakeUsage usage)
    {
        var choice = new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject
            {
                ["role"] = "assistant",
                ["content"] = text,
                ["refusal"] = null,
                ["annotations"] = new JsonArray(),
            },
            ["logprobs"] = null,
            ["finish_reason"] = "stop",
        };
        if (azure)
        {
            choice["content_filter_results"] = SafeFilterResults();
        }

        var completion = new JsonObject
        {
            ["id"] = NewCompletionId(),
            ["object"] = "chat.completion",
            ["created"] = FakeIds.UnixNow(),
            ["model"] = model,
            ["choices"] = new JsonArray(choice),
            ["usage"] = Usage(usage),
            ["system_fingerprint"] = NewFingerprint(),
        };
        if (azure)
        {
            completion["prompt_filter_results"] = PromptFilterResults();
        }
        else
        {
            completion["service_tier"] = "default";
        }

        return completion;
    }

    /// <summary>
    /// role chunk, one chunk per delta, finish chunk, then with include_usage a <c>choices: []</c>
    /// chunk carrying usage (every other chunk then says <c>usage: null</c>), then <c>[DONE]</c>.
    /// </summary>
    public async Task StreamAsync(FakeExchange exchange, string model, bool includeUsage)
    {
        var stream = await exchange.StartStreamAsync("text/event-stream; charset=utf-8");
        var id = NewCompletionId();
        var created = FakeIds.UnixNow();
        var fingerprint = NewFingerprint();

        JsonObject Chunk(JsonArray choices)
        {
            var chunk = new JsonObject
            {
                ["id"] = id,
                ["object"] = "chat.completion.chunk",
                ["created"] = created,
                ["model"] = model,
                ["system_fingerprint"] = fingerprint,
                ["choices"] = choices,
            };
            if (!azure)
            {
                chunk["service_tier"] = "default";
            }

            if (includeUsage)
            {
                chunk["usage"] = null;
            }

            if (!azure)
            {
                // OpenAI pads chunks with random characters against length side channels; parsers must ignore it.
                chunk["obfuscation"] = FakeIds.Alnum(Random.Shared.Next(2, 12));
            }

            return chunk;
        }

        JsonArray Choice(JsonObject delta, string? finishReason, bool filtered)
        {
            var choice = new JsonObject
            {
                ["index"] = 0,
                ["delta"] = delta,
                ["logprobs"] = null,
                ["finish_reason"] = finishReason,
            };
            if (azure)
            {
                choice["content_filter_results"] = filtered ? SafeFilterResults() : new JsonObject();
            }

            return new JsonArray(choice);
        }

        if (azure)
        {
            var promptFilter = new JsonObject
            {
                ["choices"] = new JsonArray(),
                ["created"] = 0,
                ["id"] = "",
                ["model"] = "",
                ["object"] = "",
                ["prompt_filter_results"] = PromptFilterResults(),
            };
            await stream.WriteEventAsync(null, promptFilter.ToJsonString());
        }

        var roleDelta = new JsonObject { ["role"] = "assistant", ["content"] = "", ["refusal"] = null };
        await stream.WriteEventAsync(null, Chunk(Choice(roleDelta, null, false)).ToJsonString());

        foreach (var text in exchange.Deltas)
        {
            await stream.WriteEventChunkAsync(null, Chunk(Choice(new JsonObject { ["content"] = text }, null, true)).ToJsonString());
        }

        await stream.WriteEventAsync(null, Chunk(Choice(new JsonObject(), "stop", false)).ToJsonString());

        if (includeUsage)
        {
            var usageChunk = Chunk([]);
            usageChunk["usage"] = Usage(exchange.Usage);
            await stream.WriteEventAsync(null, usageChunk.ToJsonString());
        }

        await stream.WriteEventAsync(null, "[DONE]");
    }

    /// <summary>One embedding per input; base64 means little-endian float32 bytes, which the official .NET SDK asks for.</summary>
    public static JsonObject Embeddings(string model, JsonObject body, FakeUsage usage)
    {
        var base64 = body["encoding_format"] is JsonValue format && format.TryGetValue(out string? name) && name == "base64";
        var dimensions = body["dimensions"] is JsonValue dims && dims.TryGetValue(out int requested) && requested > 0 ? requested : 8;

        var data = new JsonArray();
        for (var index = 0; index < CountInputs(body["input"]); index++)
        {
            var values = Enumerable.Range(0, dimensions).Select(j => (index + 1) * 0.01f + j * 0.001f).ToArray();
            data.Add(new JsonObject
            {
                ["object"] = "embedding",
                ["index"] = index,
                ["embedding"] = base64 ? ToBase64(values) : new JsonArray(values.Select(v => (JsonNode?)v).ToArray()),
            });
        }

        return new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = model,
            ["usage"] = new JsonObject { ["prompt_tokens"] = usage.InputTokens, ["total_tokens"] = usage.InputTokens },
        };
    }

    // A string, a list of strings, a token list (one input) or a list of token lists.
    private static int CountInputs(JsonNode? input) => input switch
    {
        JsonArray array when array.Count > 0 && array[0] is JsonValue first && first.TryGetValue(out int _) => 1,
        JsonArray array => Math.Max(array.Count, 1),
        _ => 1,
    };

    private static string ToBase64(float[] values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        }

        return Convert.ToBase64String(bytes);
    }

    private static string NewCompletionId() => "chatcmpl-" + FakeIds.Alnum(29);

    private static string NewFingerprint() => "fp_" + FakeIds.Hex(10);

    private static JsonObject SafeFilterResults()
    {
        var results = new JsonObject();
        foreach (var category in new[] { "hate", "self_harm", "sexual", "violence" })
        {
            results[category] = new JsonObject { ["filtered"] = false, ["severity"] = "safe" };
        }

        return results;
    }

    private static JsonArray PromptFilterResults() =>
        [new JsonObject { ["prompt_index"] = 0, ["content_filter_results"] = SafeFilterResults() }];
}
