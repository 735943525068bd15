using System.Collections.Frozen;

namespace FuncKeyOps.Providers;

/// <summary>The route names of the supported providers, for validation where the catalog is not at hand.</summary>
public static class ProviderNames
{
    public const string OpenAI = "openai";
    public const string Anthropic = "anthropic";
    public const string Gemini = "gemini";
    public const string AzureOpenAI = "azure-openai";

    public static readonly FrozenSet<string> All = new[] { OpenAI, Anthropic, Gemini, AzureOpenAI }.ToFrozenSet(StringComparer.Ordinal);
}
