using System.Text;
using FuncKeyOps.Providers;

namespace FuncKeyOps.Tests.Providers;

public class SseEventTests
{
    [Theory]
    [InlineData("event: message_start\ndata: {\"a\":1}", "message_start", "{\"a\":1}")]
    [InlineData("event: message_start\r\ndata: {\"a\":1}\r\n", "message_start", "{\"a\":1}")]
    [InlineData("event:ping\rdata:{}", "ping", "{}")]
    [InlineData("data: [DONE]", "", "[DONE]")]
    [InlineData(": ping", "", "")]
    [InlineData(": comment\nid: 7\nretry: 100\ndata:  two spaces", "", " two spaces")]
    [InlineData("data", "", "")]
    [InlineData("data: {\"a\":\ndata: 1}", "", "{\"a\":\n1}")]
    [InlineData("data: x\r\ndata: y\r\ndata: z", "", "x\ny\nz")]
    public void Name_and_data_follow_the_event_stream_rules(string raw, string name, string data)
    {
        using var sse = SseEvent.Parse(Encoding.UTF8.GetBytes(raw));

        Assert.Equal(name, Encoding.UTF8.GetString(sse.Name));
        Assert.Equal(data, Encoding.UTF8.GetString(sse.Data));
    }

    [Fact]
    public void Multi_line_data_still_yields_usage()
    {
        var reader = new OpenAIUsageReader(stripUsageOnlyChunk: true);

        var keep = reader.OnSseEvent(Encoding.UTF8.GetBytes("data: {\"choices\":[],\ndata: \"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}"));

        Assert.False(keep);
        Assert.Equal(new TokenUsage(3, 4), reader.Usage);
    }

    [Theory]
    [InlineData("{\"usage\":{}}", true)]
    [InlineData("{\"usage\" :\n {\"a\":1}}", true)]
    [InlineData("{\"usage\":null}", false)]
    [InlineData("{\"text\":\"\\\"usage\\\":{\"}", false)]
    [InlineData("{\"usage_x\":{}}", false)]
    [InlineData("{\"a\":\"usage\",\"usage\":{}}", true)]
    public void The_usage_marker_matches_only_an_object_member(string json, bool matches) =>
        Assert.Equal(matches, JsonMarkers.HasObjectMember(Encoding.UTF8.GetBytes(json), "\"usage\""u8));
}
