using FuncKeyOps.Providers;

namespace FuncKeyOps.Relay;

/// <summary>
/// Azure OpenAI paths name a deployment (<c>openai/deployments/{deployment}/...</c>), which each region names itself:
/// a pool member's map turns the client's name into the member's before the upstream URL is built.
/// </summary>
internal static class DeploymentPath
{
    private const string Prefix = "openai/deployments/";

    /// <summary>The path with its deployment segment mapped; the path unchanged when it names none or the map does not list it.</summary>
    public static string Map(string path, IReadOnlyDictionary<string, string> deployments)
    {
        if (deployments.Count == 0 || AzureOpenAIAdapter.Deployment(path) is not { } deployment || !deployments.TryGetValue(deployment, out var mapped))
            return path;
        var start = path.IndexOf(Prefix, StringComparison.Ordinal) + Prefix.Length;
        return string.Concat(path.AsSpan(0, start), mapped, path.AsSpan(start + deployment.Length));
    }
}
