using FuncKeyOps.Errors;

namespace FuncKeyOps.Tests.Errors;

/// <summary>The error table is the one list of codes: each code means one thing, and the README shows them all.</summary>
public class ErrorTableTests
{
    [Fact]
    public void Each_code_has_one_status_except_the_one_documented_pair()
    {
        var statuses = FuncKeyOpsErrors.All.GroupBy(e => e.Code).Where(g => g.Count() > 1).ToDictionary(g => g.Key, g => g.Select(e => e.Status).Order().ToArray());
        // The provider refusing a provider key: the relay's own key (502) or the value an operator is activating (422).
        Assert.Equal(new Dictionary<string, int[]> { ["provider_key_rejected"] = [422, 502] }, statuses);
    }

    [Fact]
    public void Every_field_of_the_table_is_in_All()
    {
        var fields = typeof(FuncKeyOpsErrors).GetFields().Where(f => f.FieldType == typeof(FuncKeyOpsError)).Select(f => (FuncKeyOpsError)f.GetValue(null)!);
        Assert.Equal(fields.ToHashSet(), FuncKeyOpsErrors.All.ToHashSet());
    }

    [Fact]
    public void The_readme_lists_every_code()
    {
        var readme = File.ReadAllText(Path.Combine(RepoRoot(), "README.md"));
        Assert.All(FuncKeyOpsErrors.All, e => Assert.Contains($"`{e.Code}`", readme, StringComparison.Ordinal));
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "README.md")) && Directory.Exists(Path.Combine(dir.FullName, "src", "FuncKeyOps")))
                return dir.FullName;
        }
        throw new InvalidOperationException("README.md not found above " + AppContext.BaseDirectory);
    }
}
