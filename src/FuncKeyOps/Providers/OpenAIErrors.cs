namespace FuncKeyOps.Providers;

/// <summary>
/// OpenAI's error body, <c>{"error":{"message","type","param","code"}}</c>, shared by OpenAI and Azure OpenAI's
/// v1 API. The official .NET SDK shows it as <c>HTTP 401 (type: code)</c> and the message, so both carry meaning.
/// </summary>
/// <remarks>
/// Types follow what api.openai.com sends, not an invented taxonomy: it answers bad keys, missing models and
/// other client errors with <c>invalid_request_error</c> (401 bodies say <c>invalid_request_error</c> with code
/// <c>invalid_api_key</c>), rate limits with <c>requests</c> / <c>tokens</c> and code <c>rate_limit_exceeded</c>,
/// an exhausted budget with 429 type and code <c>insufficient_quota</c>, and its own failures with <c>server_error</c>.
/// SDKs pick their exception class from the status, not the type.
/// </remarks>
internal static class OpenAIErrors
{
    public static byte[] Format(int status, string code, string message) => ErrorJson.Write((status, code, message), static (writer, error) =>
    {
        writer.WriteStartObject();
        writer.WriteStartObject("error");
        writer.WriteString("message", error.message);
        writer.WriteString("type", Type(error.status, error.code));
        writer.WriteNull("param");
        writer.WriteString("code", error.code);
        writer.WriteEndObject();
        writer.WriteEndObject();
    });

    internal static string Type(int status, string code) => status switch
    {
        429 when code.Contains("quota", StringComparison.OrdinalIgnoreCase) => "insufficient_quota",
        429 => "requests",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };
}
