using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Providers;

/// <summary>Request planning for the OpenAI body format, shared by OpenAI and Azure OpenAI.</summary>
internal static class OpenAIRequests
{
    /// <summary>
    /// The POST paths (under the API's <c>v1/</c> root) whose JSON body's <c>model</c> is the one model the call runs.
    /// Under a model allow-list nothing else goes upstream but reading models: batches and files run whatever the
    /// uploaded file names, assistants and threads run a stored assistant's model, a realtime session continues
    /// outside the relay, and multipart uploads (audio transcription, image edits) name the model in a form field
    /// the relay does not parse.
    /// </summary>
    private static readonly FrozenSet<string> BodyModelPaths = new[]
    {
        "chat/completions", "completions", "embeddings", "responses", "moderations", "images/generations", "audio/speech",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>What a call to <paramref name="apiPath"/> (relative to the v1 root; null when not under it) does with models; <see cref="ModelScope.Named"/> means "the body names it".</summary>
    public static ModelScope Scope(string method, string? apiPath)
    {
        if (ApiPaths.ReadsModels(method, apiPath))
            return ModelScope.None;
        return apiPath is not null && HttpMethods.IsPost(method) && BodyModelPaths.Contains(apiPath) ? ModelScope.Named : ModelScope.Unknown;
    }

    /// <param name="path">The provider path as routed.</param>
    /// <param name="body">The client's body.</param>
    /// <param name="chatAcceptsStreamOptions">False when upstream would reject <c>stream_options</c> (old Azure api-versions).</param>
    /// <param name="scope">From <see cref="Scope"/>, or <see cref="ModelScope.Named"/> with a <paramref name="pathModel"/>.</param>
    /// <param name="pathModel">The model named by the path (an Azure deployment); the body's <c>model</c> otherwise.</param>
    public static RequestPlan Plan(string path, ReadOnlyMemory<byte> body, bool chatAcceptsStreamOptions, ModelScope scope, string? pathModel = null)
    {
        var request = RequestFields.Read(body.Span);
        // A path that runs the body's model needs exactly one string model in one JSON object, or nothing can be checked.
        if (scope == ModelScope.Named && pathModel is null && request.Model is null)
            scope = ModelScope.Unreadable;
        if (!request.IsObject)
            return new RequestPlan(body, pathModel, Streaming: false, StripUsageOnlyChunk: false) { ModelScope = scope };

        var model = pathModel ?? request.Model;
        if (chatAcceptsStreamOptions && IsChatCompletions(path) && StreamUsageRewrite.Applies(request))
            return new RequestPlan(StreamUsageRewrite.Apply(body.Span, request), model, Streaming: true, StripUsageOnlyChunk: true) { ModelScope = scope };
        return new RequestPlan(body, model, request.Stream, StripUsageOnlyChunk: false) { ModelScope = scope };
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
