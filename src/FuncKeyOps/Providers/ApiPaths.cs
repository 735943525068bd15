using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Providers;

/// <summary>Path steps the adapters share to decide what a call does with models.</summary>
internal static class ApiPaths
{
    /// <summary>The part of <paramref name="path"/> under <paramref name="root"/> (such as <c>v1/</c>), without surrounding slashes; null when it is not under it.</summary>
    public static string? Under(string path, string root)
    {
        var trimmed = path.AsSpan().Trim('/');
        return trimmed.StartsWith(root, StringComparison.Ordinal) ? new string(trimmed[root.Length..].Trim('/')) : null;
    }

    /// <summary>
    /// <c>GET models</c> or <c>GET models/{id}</c> (relative to the API root): listing or describing models runs
    /// none, so a relay key limited to some models may do it (SDKs and tools list models to start with).
    /// </summary>
    public static bool ReadsModels(string method, string? apiPath)
    {
        if (apiPath is null || !HttpMethods.IsGet(method))
            return false;
        if (apiPath == "models")
            return true;
        return apiPath.StartsWith("models/", StringComparison.Ordinal) && apiPath.Length > "models/".Length
            && apiPath.IndexOf('/', "models/".Length) < 0;
    }
}
