using System.Text.Json.Nodes;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// One OpenAI Responses API answer: the response object, and its SSE event sequence
/// (created, in_progress, output item and content part opened, text deltas, closed, completed).
/// Usage appears only on the final <c>response.completed</c> event.
/// </summary>
internal sealed class ResponsesFormat(string model, FakeExchange exchange)
{
    private readonly string _id = "resp_" + FakeIds.Hex(48);
    private readonly string _itemId = "msg_" + FakeIds.Hex(48);
    private readonly long _createdAt = FakeIds.UnixNow();
    private int _sequence;

    public JsonObject Completed() => Response("completed", new JsonArray(Message("completed", exchange.ReplyText)), Usage());

    public async Task StreamAsync()
    {
        var stream = await exchange.StartStreamAsync("text/event-stream; charset=utf-8");

        Task Send(string type, JsonObject fields, bool paced = false)
        {
            var data = new JsonObject { ["type"] = type, ["sequence_number"] = _sequence++ };
            foreach (var (name, value) in fields)
            {
                data[name] = value?.DeepClone();
            }

            return paced ? stream.WriteEventChunkAsync(type, data.ToJsonString()) : stream.WriteEventAsync(type, data.ToJsonString());
        }

        var text = exchange.ReplyText;
        await Send("response.created", new() { ["response"] = Response("in_progress", [], null) });
        await Send("response.in_progress", new() { ["response"] = Response("in_progress", [], null) });
        await Send("response.output_item.added", new() { ["output_index"] = 0, ["item"] = Message("in_progress", null) });
        await Send("response.content_part.added", new() { ["item_id"] = _itemId, ["output_index"] = 0, ["content_index"] = 0, ["part"] = TextPart("") });

        foreach (var delta in exchange.Deltas)
        {
            await Send("response.output_text.delta", new()
            {
                ["item_id"] = _itemId,
                ["output_index"] = 0,
                ["content_index"] = 0,
                ["delta"] = delta,
                ["logprobs"] = new JsonArray(),
                ["obfuscation"] = FakeIds.Alnum(Random.Shared.Next(2, 12)),
            }, paced: true);
        }

        await Send("response.output_text.done", new() { ["item_id"] = _itemId, ["output_index"] = 0, ["content_index"] = 0, ["text"] = text, ["logprobs"] = new JsonArray() });
        await Send("response.content_part.done", new() { ["item_id"] = _itemId, ["output_index"] = 0, ["content_index"] = 0, ["part"] = TextPart(text) });
        await Send("response.output_item.done", new() { ["output_index"] = 0, ["item"] = Message("completed", text) });
        await Send("response.completed", new() { ["response"] = Completed() });
    }

    private JsonObject Usage() => new()
    {
        ["input_tokens"] = exchange.Usage.InputTokens,
        ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = 0 },
        ["output_tokens"] = exchange.Usage.OutputTokens,
        ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 },
        ["total_tokens"] = exchange.Usage.TotalTokens,
    };

    private JsonObject Response(string status, JsonArray output, JsonObject? usage) => new()
    {
        ["id"] = _id,
        ["object"] = "response",
        ["created_at"] = _createdAt,
        ["status"] = status,
        ["background"] = false,
        ["error"] = null,
        ["incomplete_details"] = null,
        ["instructions"] = null,
        ["max_output_tokens"] = null,
        ["max_tool_calls"] = null,
        ["model"] = model,
        ["output"] = output,
        ["parallel_tool_calls"] = true,
        ["previous_response_id"] = null,
        ["prompt_cache_key"] = null,
        ["reasoning"] = new JsonObject { ["effort"] = null, ["summary"] = null },
        ["safety_identifier"] = null,
        ["service_tier"] = "default",
        ["store"] = true,
        ["temperature"] = 1.0,
        ["text"] = new JsonObject { ["format"] = new JsonObject { ["type"] = "text" }, ["verbosity"] = "medium" },
        ["tool_choice"] = "auto",
        ["tools"] = new JsonArray(),
        ["top_logprobs"] = 0,
        ["top_p"] = 1.0,
        ["truncation"] = "disabled",
        ["usage"] = usage,
        ["user"] = null,
        ["metadata"] = new JsonObject(),
    };

    private JsonObject Message(string status, string? text) => new()
    {
        ["id"] = _itemId,
        ["type"] = "message",
        ["status"] = status,
        ["content"] = text is null ? new JsonArray() : new JsonArray(TextPart(text)),
        ["role"] = "assistant",
    };

    private static JsonObject TextPart(string text) => new()
    {
        ["type"] = "output_text",
        ["annotations"] = new JsonArray(),
        ["logprobs"] = new JsonArray(),
        ["text"] = text,
    };
}
