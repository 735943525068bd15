using FuncKeyOps.Tests.Operators;
using YamlDotNet.RepresentationModel;

namespace FuncKeyOps.Tests.Infra;

/// <summary>
/// .github/workflows/deploy.yml read as YAML: what decides whether a commit reaches Azure. actionlint (./build.sh infra)
/// checks the syntax; these check the gate.
/// </summary>
public sealed class DeployWorkflowTests
{
    [Fact]
    public void A_commit_on_main_deploys_only_after_ci_passed_on_it()
    {
        var workflow = Load("deploy.yml");
        var on = Map(workflow, "on");

        // No push trigger: a push would deploy whatever ci concludes. ci's completion on main triggers instead.
        Assert.False(on.Children.ContainsKey("push"), "deploy.yml deploys on push, before ci has passed");
        var run = Map(on, "workflow_run");
        Assert.Equal(["ci"], Sequence(run, "workflows"));
        Assert.Equal(["completed"], Sequence(run, "types"));
        Assert.Equal(["main"], Sequence(run, "branches"));
        Assert.Equal("ci", Scalar(Load("ci.yml"), "name"));

        var deploy = Map(Map(workflow, "jobs"), "deploy");
        var condition = Scalar(deploy, "if");
        Assert.Contains("github.event.workflow_run.conclusion == 'success'", condition);
        Assert.Contains("github.event.workflow_run.event == 'push'", condition);
        // The commit ci tested is the one checked out, not the branch's newer head.
        Assert.Contains("github.event.workflow_run.head_sha", Scalar(Map(deploy, "env"), "COMMIT"));
        var steps = ((YamlSequenceNode)deploy.Children["steps"]).Children.Cast<YamlMappingNode>().ToList();
        var checkout = steps.First(s => s.Children.TryGetValue("uses", out var uses) && uses.ToString().StartsWith("actions/checkout", StringComparison.Ordinal));
        Assert.Equal("${{ env.COMMIT }}", Scalar(Map(checkout, "with"), "ref"));
    }

    [Fact]
    public void A_manual_deployment_requires_a_passing_ci_run_on_its_commit_before_anything_else()
    {
        var deploy = Map(Map(Load("deploy.yml"), "jobs"), "deploy");
        var steps = ((YamlSequenceNode)deploy.Children["steps"]).Children.Cast<YamlMappingNode>().ToList();

        var gate = steps.FindIndex(s => s.Children.TryGetValue("run", out var run) && run.ToString().Contains("gh run list", StringComparison.Ordinal));
        Assert.True(gate >= 0, "no step checks ci's result for a manual run");
        Assert.Equal("github.event_name == 'workflow_dispatch'", Scalar(steps[gate], "if"));
        Assert.Contains("--status success", Scalar(steps[gate], "run"));
        Assert.Contains("--commit \"$COMMIT\"", Scalar(steps[gate], "run"));
        var login = steps.FindIndex(s => s.Children.TryGetValue("uses", out var uses) && uses.ToString().StartsWith("azure/login", StringComparison.Ordinal));
        Assert.True(gate < login, "the ci check runs after signing in to Azure");
    }

    private static YamlMappingNode Load(string file)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(DevScript.RepositoryRoot, ".github", "workflows", file));
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static YamlMappingNode Map(YamlMappingNode node, string key) => (YamlMappingNode)node.Children[new YamlScalarNode(key)];

    private static string Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node.Children[new YamlScalarNode(key)]).Value!;

    private static List<string> Sequence(YamlMappingNode node, string key) =>
        ((YamlSequenceNode)node.Children[new YamlScalarNode(key)]).Children.Select(c => ((YamlScalarNode)c).Value!).ToList();
}
