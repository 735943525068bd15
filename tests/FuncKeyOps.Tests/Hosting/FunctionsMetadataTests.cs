using System.Reflection;
using System.Text.Json;
using FuncKeyOps.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;

namespace FuncKeyOps.Tests.Hosting;

/// <summary>
/// The Functions app's triggers, as its build generated them (functions.metadata, what the Functions host reads),
/// cover every row of <see cref="Routes"/> with the row's methods and the authorization level its access needs.
/// </summary>
public class FunctionsMetadataTests
{
    private sealed record Trigger(string Function, string Route, string AuthLevel, string[]? Methods)
    {
        public TemplateMatcher Matcher { get; } = new(TemplateParser.Parse(Route), new RouteValueDictionary());
        public decimal Precedence { get; } = RoutePrecedence.ComputeInbound(TemplateParser.Parse(Route));

        /// <param name="method">null: every method.</param>
        public bool Accepts(string? method) =>
            Methods is null or [] || method is not null && Methods.Contains(method, StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public void Every_route_of_the_table_has_a_Functions_trigger_with_its_methods_and_authorization_level()
    {
        var triggers = ReadTriggers();
        var problems = new List<string>();
        foreach (var route in Routes.All)
        {
            var path = "/" + (route.Access == RouteAccess.Admin ? Routes.ManagePrefix + "/" : "") + RouteSamples.PathFor(route.Pattern);
            var level = route.Access == RouteAccess.Admin ? "Function" : "Anonymous";
            // null: the route answers every method, so its trigger must too.
            foreach (var method in route.AnswersEveryMethod ? [null] : route.Methods.ToArray<string?>())
            {
                // The host picks the most specific template that matches, as ASP.NET Core routing does.
                var trigger = triggers
                    .Where(t => t.Matcher.TryMatch(path, new RouteValueDictionary()) && t.Accepts(method))
                    .MinBy(t => t.Precedence);
                if (trigger is null)
                    problems.Add($"{route}: no trigger accepts {method ?? "every method"} on {path}");
                else if (!string.Equals(trigger.AuthLevel, level, StringComparison.OrdinalIgnoreCase))
                    problems.Add($"{route}: trigger {trigger.Function} has authLevel {trigger.AuthLevel}, not {level}");
            }
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void The_Functions_app_has_no_HTTP_route_the_table_does_not_hold()
    {
        // Its routes are the table's public templates, the one admin trigger and the one tenant trigger: a trigger written beside the
        // table would be a route the Server host does not serve.
        var known = Routes.Public.Select(r => r.Template).Append(Routes.ManageTrigger).Append(Routes.TenantTrigger).ToHashSet(StringComparer.Ordinal);
        Assert.All(ReadTriggers(), t => Assert.True(known.Contains(t.Route), $"{t.Function}: {t.Route} is not in Routes"));
    }

    private static List<Trigger> ReadTriggers()
    {
        var path = typeof(FunctionsMetadataTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "FunctionsMetadata").Value!;
        Assert.True(File.Exists(path), $"{path} is missing: build the Functions app first (./build.sh functions; ./build.sh test does it).");
        using var metadata = JsonDocument.Parse(File.ReadAllText(path));
        var triggers = new List<Trigger>();
        foreach (var function in metadata.RootElement.EnumerateArray())
        {
            foreach (var binding in function.GetProperty("bindings").EnumerateArray())
            {
                if (!string.Equals(binding.GetProperty("type").GetString(), "httpTrigger", StringComparison.OrdinalIgnoreCase))
                    continue;
                var methods = binding.TryGetProperty("methods", out var m) && m.ValueKind == JsonValueKind.Array
                    ? m.EnumerateArray().Select(e => e.GetString()!).ToArray()
                    : null;
                triggers.Add(new Trigger(function.GetProperty("name").GetString()!, binding.GetProperty("route").GetString()!,
                    binding.GetProperty("authLevel").GetString()!, methods));
            }
        }
        return triggers;
    }
}
