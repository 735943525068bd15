using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FuncKeyOps.Tests.Operators;

namespace FuncKeyOps.Tests.Infra;

/// <summary>A template and, for a module, the deployment resource in its parent that passes the module's parameters.</summary>
internal sealed record ArmScope(JsonObject Template, JsonObject? Deployment, ArmScope? Parent);

/// <summary>A resource declared anywhere in the compiled template, with the (module) template that declares it.</summary>
internal sealed record ArmResource(string Type, JsonObject Body, ArmScope Scope)
{
    public JsonObject Properties => Body["properties"]?.AsObject() ?? new JsonObject();
}

/// <summary>
/// The ARM JSON that <c>./build.sh infra</c> compiles from infra/bicep into .artifacts/infra, with every module's
/// resources flattened. Built by the script when missing or older than a Bicep source, so the tests never read a
/// template that no longer matches the Bicep.
/// </summary>
internal sealed partial class ArmTemplate
{
    private static readonly Lazy<Task<ArmTemplate>> Main = new(ReadAsync);

    private ArmTemplate(JsonObject root, IReadOnlyList<ArmScope> scopes, IReadOnlyList<ArmResource> resources, IReadOnlyList<JsonObject> parameterFiles)
    {
        Root = root;
        Scopes = scopes;
        Resources = resources;
        ParameterFiles = parameterFiles;
    }

    public static Task<ArmTemplate> LoadAsync() => Main.Value;

    /// <summary>Another compiled entry point of infra/bicep (e.g. admin-key.json), built with the main template.</summary>
    public static async Task<JsonObject> LoadCompiledAsync(string fileName)
    {
        await Main.Value;
        var path = Path.Combine(DevScript.RepositoryRoot, ".artifacts", "infra", fileName);
        return JsonNode.Parse(await File.ReadAllTextAsync(path))!.AsObject();
    }

    public JsonObject Root { get; }

    /// <summary>The main template and every module's template.</summary>
    public IReadOnlyList<ArmScope> Scopes { get; }

    public IReadOnlyList<ArmResource> Resources { get; }

    /// <summary>The compiled .bicepparam files (main.dev.json, main.prod.json).</summary>
    public IReadOnlyList<JsonObject> ParameterFiles { get; }

    public IEnumerable<ArmResource> OfType(string type) =>
        Resources.Where(r => string.Equals(r.Type, type, StringComparison.OrdinalIgnoreCase));

    public ArmResource Single(string type) => Assert.Single(OfType(type));

    /// <summary>
    /// The expression with every <c>variables('x')</c> replaced by the variable's value and every <c>parameters('x')</c>
    /// of a module by what its parent passes, recursively: what a role assignment's role can be, read statically.
    /// </summary>
    public static string Expand(string expression, ArmScope scope, int depth = 0)
    {
        Assert.True(depth < 20, "expression nesting too deep: " + expression);
        var expanded = VariableReference().Replace(expression, m =>
            scope.Template["variables"]?[m.Groups[1].Value] is { } value ? Expand(Text(value), scope, depth + 1) : m.Value);
        if (scope.Deployment is null || scope.Parent is null)
            return expanded;
        return ParameterReference().Replace(expanded, m =>
            scope.Deployment["properties"]?["parameters"]?[m.Groups[1].Value]?["value"] is { } value
                ? Expand(Text(value), scope.Parent, depth + 1)
                : m.Value);
    }

    public static string Text(JsonNode node) => node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : node.ToJsonString();

    private static async Task<ArmTemplate> ReadAsync()
    {
        var root = DevScript.RepositoryRoot;
        var output = Path.Combine(root, ".artifacts", "infra");
        var main = Path.Combine(output, "main.json");
        if (IsStale(root, main))
            await BuildAsync(root);

        var template = JsonNode.Parse(await File.ReadAllTextAsync(main))!.AsObject();
        var scopes = new List<ArmScope>();
        var resources = new List<ArmResource>();
        Collect(new ArmScope(template, null, null), scopes, resources);
        var parameterFiles = new List<JsonObject>();
        foreach (var file in Directory.GetFiles(Path.Combine(root, "infra", "bicep"), "*.bicepparam"))
        {
            var compiled = Path.Combine(output, Path.GetFileNameWithoutExtension(file) + ".json");
            parameterFiles.Add(JsonNode.Parse(await File.ReadAllTextAsync(compiled))!.AsObject());
        }
        return new ArmTemplate(template, scopes, resources, parameterFiles);
    }

    private static bool IsStale(string root, string main)
    {
        if (!File.Exists(main))
            return true;
        var built = File.GetLastWriteTimeUtc(main);
        return Directory.EnumerateFiles(Path.Combine(root, "infra", "bicep"), "*", SearchOption.AllDirectories)
            .Any(f => File.GetLastWriteTimeUtc(f) > built);
    }

    private static async Task BuildAsync(string root)
    {
        var start = new ProcessStartInfo("bash", ["build.sh", "infra"])
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"./build.sh infra failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
    }

    // Language version 2.0 templates (user-defined types) hold resources by symbolic name; older ones in an array.
    private static void Collect(ArmScope scope, List<ArmScope> scopes, List<ArmResource> resources)
    {
        scopes.Add(scope);
        var declared = scope.Template["resources"] switch
        {
            JsonObject byName => byName.Select(p => p.Value!.AsObject()),
            JsonArray list => list.Select(r => r!.AsObject()),
            _ => [],
        };
        foreach (var resource in declared)
        {
            var type = resource["type"]!.GetValue<string>();
            resources.Add(new ArmResource(type, resource, scope));
            if (type == "Microsoft.Resources/deployments" && resource["properties"]?["template"] is JsonObject nested)
                Collect(new ArmScope(nested, resource, scope), scopes, resources);
        }
    }

    [GeneratedRegex(@"variables\('([^']+)'\)")]
    private static partial Regex VariableReference();

    [GeneratedRegex(@"parameters\('([^']+)'\)")]
    private static partial Regex ParameterReference();
}
