namespace FuncKeyOps.Providers;

/// <summary>Request planning for the OpenAI body format, shared by OpenAI and Azure OpenAI.</summary>
internal static class OpenAIRequests
{
    /// <param name="path">The provider path as routed.</param>
    /// <param name="body">The client's body.</param>
    /// <param name="chatAcceptsStreamOptions">False when upstream would reject <c>stream_options</c> (old Azure api-versions).</param>
    /// <param name="pathModel">The model named by the path (an Azure deployment); the body's <c>model</c> otherwise.</param>
    public static RequestPlan Plan(string path, ReadOnlyMemory<byte> body, bool chatAcceptsStreamOptions, string? pathModel = null)
    {
        var request = RequestBody.Read(body.Span);
        if (!request.IsObject)
            return new RequestPlan(body, pathModel, Streaming: false, StripUsageOnlyChunk: false);

        var model = pathModel ?? request.Model;
        if (chatAcceptsStreamOptions && IsChatCompletions(path) && StreamUsageRewrite.Applies(request))
            return new RequestPlan(StreamUsageRewrite.Apply(body.Span, request), model, Streaming: true, StripUsageOnlyChunk: true);
        return new RequestPlan(body, model, request.Stream, StripUsageOnlyChunk: false);
    }

    /// <summary>
    /// <c>v1/chat/completions</c>, <c>openai/v1/chat/completions</c> and <c>openai/deployments/{d}/chat/completions</c>;
    /// not the stored-completion paths under it (<c>v1/chat/completions/{id}</c>), which do not stream.
    /// </summary>
    public static bool IsChatCompletions(string path)
    {
        var trimmed = path.AsSpan().Trim('/');
        return trimmed.EndsWith("/chat/completions", StringComparison.Ordinal) || trimmed.SequenceEqual("chat/completions");
    }
}
