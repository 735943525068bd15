using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FuncKeyOps.Hosting;
using FuncKeyOps.Rotation.Durable;
using FuncKeyOps.Rotation.Schedule;
using FuncKeyOps.Rotation.Server;
using FuncKeyOps.Tests.Infra;
using FuncKeyOps.Tests.Operators;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Tests.Hosting;

/// <summary>
/// Every setting the hosts read is in local.settings.sample.json (Functions app), in the Bicep app settings where Azure
/// needs it, and in the README's configuration reference. The settings are derived, not listed: the options types each
/// host's registration binds (their leaf properties, nested objects included), the keys read directly in src, and the
/// storage connection host.json names. A new option property fails these tests until it is listed everywhere.
/// </summary>
public sealed partial class SettingsCoverageTests
{
    /// <summary>
    /// Settings an Azure deployment must set, each with why: no default, or a default that is wrong in Azure. Every other
    /// setting's default is right for Azure, so the Bicep may leave it out.
    /// </summary>
    private static readonly Dictionary<string, string> AzureNeeds = new()
    {
        ["KeyVault:Uri"] = "no default: the vault holding every secret",
        ["KeyVault:ManagedIdentityClientId"] = "the app runs as a user-assigned identity only; without its client id the credential finds none",
        ["Storage:TableEndpoint"] = "no default, and Storage:ConnectionString (a key) is not allowed in Azure",
        ["Rotation:Schedule"] = "no default for the Functions timer: the host does not index the schedule function without it",
        ["Anomalies:Schedule"] = "no default for the Functions timer: the host does not index the sweep function without it",
        ["Retention:Schedule"] = "no default for the Functions timer: the host does not index the retention function without it",
        ["AzureWebJobsStorage"] = "the host's and the Durable hub's storage; set in its identity form (__accountName, __credential, __clientId)",
        ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = "absent, the app logs to the console only; Azure reads its logs from Application Insights",
    };

    /// <summary>
    /// Settings the sample cannot hold: a list is set one item per key (Relay__TrustedProxies__0, ...) and its default
    /// is no item, which no key can say; the spill folder's default is the machine's temp folder, which no one value is.
    /// The anomaly thresholds' overrides are maps keyed by tenant or relay key id, empty by default, likewise.
    /// </summary>
    private static readonly HashSet<string> NotInSample =
        ["Relay:TrustedProxies", "ProviderKeys:AllowedEndpointHosts", "Audit:SpillPath", "Anomalies:Tenants", "Anomalies:RelayKeys"];

    /// <summary>Sample values that differ from the app's defaults on purpose: what a local run needs.</summary>
    private static readonly HashSet<string> LocalValues = ["Storage:ConnectionString", "KeyVault:Uri"];

    /// <summary>
    /// Sections bound to another library's options type (Microsoft.Extensions.Http.Resilience), documented as one row
    /// (<c>Alerts:Resilience:...</c>) rather than one per leaf of a type that is not ours.
    /// </summary>
    private static readonly HashSet<string> PassThroughSections = ["Alerts:Resilience"];

    [Fact]
    public void Every_setting_the_Functions_app_reads_is_in_local_settings_sample()
    {
        var values = SampleValues();

        var missing = FunctionsSettings()
            .Where(s => !NotInSample.Contains(s.Name) && !values.ContainsKey(s.EnvironmentName))
            .Select(s => $"{s.EnvironmentName} ({s.Name}, from {s.Source})")
            .ToList();

        Assert.True(missing.Count == 0, "local.settings.sample.json \"Values\" lacks:\n  " + string.Join("\n  ", missing));
    }

    [Fact]
    public void The_samples_values_are_the_Functions_apps_defaults_but_for_the_local_ones()
    {
        // Bound as the Functions app binds them (its host defaults first), so a stale sample value cannot override a
        // default that changed, nor a Functions default (Relay:UpstreamTimeout) with the Server host's.
        var sample = SampleValues()
            .Select(p => KeyValuePair.Create(p.Key.Replace("__", ":", StringComparison.Ordinal), p.Value))
            .Where(p => !LocalValues.Contains(p.Key));
        var withSample = new ConfigurationBuilder().AddFunctionsHostDefaults().AddInMemoryCollection(sample).Build();
        var defaults = new ConfigurationBuilder().AddFunctionsHostDefaults().Build();

        var different = new List<string>();
        foreach (var type in OptionsTypes(FunctionsServices()))
        {
            var section = SectionOf(type);
            var expected = LeafValues(defaults.GetSection(section).Get(type) ?? Activator.CreateInstance(type)!, section);
            foreach (var (name, value) in LeafValues(withSample.GetSection(section).Get(type) ?? Activator.CreateInstance(type)!, section))
            {
                if (!LocalValues.Contains(name) && value != expected[name])
                    different.Add($"{name.Replace(":", "__", StringComparison.Ordinal)}: sample binds {value}, the app's default is {expected[name]}");
            }
        }
        Assert.True(different.Count == 0, "local.settings.sample.json:\n  " + string.Join("\n  ", different));
    }

    [Fact]
    public async Task Every_setting_Azure_needs_is_in_the_Bicep_app_settings()
    {
        var known = FunctionsSettings().Select(s => s.Name).ToHashSet();
        var appSettings = await BicepAppSettingsAsync();

        // The list above names real settings only, so it cannot keep a setting that no longer exists.
        Assert.All(AzureNeeds.Keys, name => Assert.Contains(name, known));
        var missing = AzureNeeds.Keys
            .SelectMany(name => BicepNames(name).Where(n => !appSettings.Contains(n)).Select(n => $"{n} ({name}: {AzureNeeds[name]})"))
            .ToList();
        Assert.True(missing.Count == 0, "infra/bicep/modules/function-app.bicep appSettings lack:\n  " + string.Join("\n  ", missing));
    }

    [Fact]
    public async Task Every_setting_is_a_row_of_the_READMEs_configuration_reference_saying_whether_Bicep_sets_it()
    {
        var rows = ReadmeRows();
        var appSettings = await BicepAppSettingsAsync();
        var settings = FunctionsSettings().Concat(ServerSettings()).DistinctBy(s => s.Name).ToList();

        var missing = settings.Where(s => !rows.ContainsKey(s.Name))
            .Select(s => $"{s.Name} (from {s.Source})")
            .Concat(PassThroughSections.Select(p => p + ":...").Where(p => !rows.ContainsKey(p)))
            .ToList();
        Assert.True(missing.Count == 0, "README.md \"Configuration reference\" has no row for:\n  " + string.Join("\n  ", missing));

        var wrong = new List<string>();
        foreach (var setting in settings)
        {
            var row = rows[setting.Name];
            if (row.EnvironmentName != setting.EnvironmentName)
                wrong.Add($"{setting.Name}: environment variable column says {row.EnvironmentName}, not {setting.EnvironmentName}");
            var inBicep = BicepNames(setting.Name).All(appSettings.Contains);
            if (row.InBicep != inBicep)
                wrong.Add($"{setting.Name}: Bicep column says {(row.InBicep ? "yes" : "-")}, the Bicep app settings {(inBicep ? "set it" : "do not")}");
        }
        Assert.True(wrong.Count == 0, "README.md \"Configuration reference\":\n  " + string.Join("\n  ", wrong));
    }

    [Fact]
    public void Every_key_of_a_per_tenant_or_per_relay_key_map_is_named_in_its_READMEs_row()
    {
        // A map setting (Anomalies:Tenants, Anomalies:RelayKeys) is one row, and its keys are set under each entry
        // (Anomalies__Tenants__{tenant}__ErrorRate): the row must name every one of them, or an override is undocumented.
        var rows = ReadmeRowTexts();
        var missing = new List<string>();
        foreach (var (setting, entryType) in OptionsTypes(FunctionsServices()).Concat(OptionsTypes(ServerServices())).Distinct().SelectMany(MapSettings))
        {
            if (!rows.TryGetValue(setting, out var row))
            {
                missing.Add($"{setting}: no row");
                continue;
            }
            foreach (var key in entryType.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }).Select(p => p.Name))
            {
                if (!Regex.IsMatch(row, $"__{key}(?![A-Za-z0-9])"))
                    missing.Add($"{setting}: __{key} ({entryType.Name}.{key})");
            }
        }

        Assert.True(missing.Count == 0, "README.md \"Configuration reference\" rows do not name:\n  " + string.Join("\n  ", missing));
        // The derivation must find the maps, or the check above would pass on nothing.
        Assert.Contains(OptionsTypes(FunctionsServices()).SelectMany(MapSettings), m => m.Setting == "Anomalies:Tenants");
    }

    [Fact]
    public async Task Host_json_names_a_valid_Durable_hub_on_the_identity_based_storage_connection_the_Bicep_sets()
    {
        var host = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(DevScript.RepositoryRoot, "host.json")))!;
        var durable = host["extensions"]!["durableTask"]!;
        var appSettings = await BicepAppSettingsAsync();

        // Azure Storage task hub names: 3 to 45 letters and digits, starting with a letter (they name queues and tables).
        Assert.Matches("^[A-Za-z][A-Za-z0-9]{2,44}$", durable["hubName"]!.GetValue<string>());
        var connection = durable["storageProvider"]!["connectionName"]!.GetValue<string>();
        Assert.Equal("AzureWebJobsStorage", connection);
        Assert.All(BicepNames(connection), name => Assert.Contains(name, appSettings));
        Assert.DoesNotContain(connection, appSettings); // a connection string there would carry the account key
        // Long streamed answers (minutes of tokens) must not be cut by the host; the relay's own idle limits end stalls.
        Assert.True(TimeSpan.Parse(host["functionTimeout"]!.GetValue<string>()) >= TimeSpan.FromMinutes(30));
    }

    [Fact]
    public void The_derivation_finds_every_options_type_the_hosts_bind()
    {
        // Guards the derivation itself: if a registration stopped being visible (bound another way), settings would
        // silently drop out of the checks above.
        var bound = OptionsTypes(FunctionsServices()).Concat(OptionsTypes(ServerServices())).ToHashSet();
        var declared = typeof(FuncKeyOpsRegistration).Assembly.GetTypes()
            .Where(t => t.IsPublic && t.Name.EndsWith("Options", StringComparison.Ordinal)
                        && t.GetField("Section", BindingFlags.Public | BindingFlags.Static) is not null);

        Assert.Empty(declared.Where(t => !bound.Contains(t)).Select(t => t.FullName));
        Assert.Contains(FunctionsSettings(), s => s.Name == "Relay:Circuit:FailureRatio");
        Assert.Contains(FunctionsSettings(), s => s.Name == "Rotation:Schedule" && s.Source.Contains("Functions", StringComparison.Ordinal));
        Assert.DoesNotContain(FunctionsSettings(), s => s.Name == "Rotation:PollInterval");
    }

    internal sealed record Setting(string Name, string Source)
    {
        public string EnvironmentName => Name.Replace(":", "__", StringComparison.Ordinal);
    }

    private sealed record ReadmeRow(string EnvironmentName, bool InBicep);

    /// <summary>What the Functions app reads: its registration as Program.cs calls it, its triggers' %settings%, direct reads, host.json's connection.</summary>
    private static List<Setting> FunctionsSettings() =>
    [
        .. OptionsTypes(FunctionsServices()).SelectMany(Leaves),
        .. DirectReads(),
        new(HostStorageConnection(), "host.json durableTask.storageProvider.connectionName"),
    ];

    private static List<Setting> ServerSettings() =>
        OptionsTypes(ServerServices()).SelectMany(Leaves).ToList();

    private static IServiceCollection FunctionsServices()
    {
        var services = new ServiceCollection();
        services.AddFuncKeyOps(new ConfigurationBuilder().Build());
        services.AddDurableRotationDriver(_ => throw new NotSupportedException());
        services.AddRotationSchedule();
        return services;
    }

    private static IServiceCollection ServerServices()
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder().Build();
        services.AddFuncKeyOps(configuration);
        services.AddRotationServer(configuration);
        return services;
    }

    // OptionsBuilder.Bind registers one change token source per bound options type.
    private static IEnumerable<Type> OptionsTypes(IServiceCollection services) =>
        services.Select(d => d.ServiceType)
            .Where(t => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IOptionsChangeTokenSource<>))
            .Select(t => t.GetGenericArguments()[0])
            .Where(t => t.Assembly == typeof(FuncKeyOpsRegistration).Assembly)
            .Distinct();

    private static string SectionOf(Type options) =>
        (string)(options.GetField("Section", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue()
                 ?? throw new InvalidOperationException(options.FullName + " has no Section constant"));

    private static IEnumerable<Setting> Leaves(Type options)
    {
        var section = SectionOf(options);
        return LeafValues(Activator.CreateInstance(options)!, section).Keys
            .Select(name => new Setting(name, options.Name + "." + name[(section.Length + 1)..].Replace(':', '.')));
    }

    // Each leaf the binder writes (settable public properties; a nested options object of ours contributes its leaves) as
    // text (a list joined), blank strings as unset: the library reads an empty setting as no setting.
    private static Dictionary<string, string> LeafValues(object options, string section) =>
        options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true })
            .SelectMany<PropertyInfo, KeyValuePair<string, string>>(p => p.PropertyType.IsClass && p.PropertyType.Assembly == options.GetType().Assembly
                ? LeafValues(p.GetValue(options) ?? Activator.CreateInstance(p.PropertyType)!, $"{section}:{p.Name}")
                : [KeyValuePair.Create($"{section}:{p.Name}", Text(p.GetValue(options)))])
            .ToDictionary();

    private static string Text(object? value) => value switch
    {
        null => "",
        string s => s.Trim(),
        System.Collections.IEnumerable items => string.Join(",", items.Cast<object>()),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>Keys read by name in src: configuration indexers, GetValue, GetConnectionString, environment variables, %trigger settings%.</summary>
    private static IEnumerable<Setting> DirectReads()
    {
        var src = Path.Combine(DevScript.RepositoryRoot, "src");
        foreach (var file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                                 && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            foreach (Match m in DirectRead().Matches(text))
                yield return new Setting(m.Groups["key"].Value, Path.GetRelativePath(DevScript.RepositoryRoot, file));
            foreach (Match m in SectionRead().Matches(text))
            {
                var argument = m.Groups["argument"].Value;
                Assert.True(SimpleSection().IsMatch(argument) || PassThroughSections.Any(p => argument.Contains(p.Split(':')[^1], StringComparison.Ordinal)),
                    $"{Path.GetRelativePath(DevScript.RepositoryRoot, file)} reads section {argument}: bind an options type with a Section constant, or list it in PassThroughSections");
            }
        }
    }

    private static string HostStorageConnection()
    {
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(DevScript.RepositoryRoot, "host.json")))!;
        return host["extensions"]?["durableTask"]?["storageProvider"]?["connectionName"]?.GetValue<string>() ?? "AzureWebJobsStorage";
    }

    // A storage connection is set in Azure in its identity form; every other setting by its own name.
    private static IEnumerable<string> BicepNames(string setting) => setting == HostStorageConnection()
        ? [setting + "__accountName", setting + "__credential", setting + "__clientId"]
        : [setting.Replace(":", "__", StringComparison.Ordinal)];

    private static Dictionary<string, string?> SampleValues()
    {
        var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(DevScript.RepositoryRoot, "local.settings.sample.json")))!;
        return sample["Values"]!.AsObject().ToDictionary(p => p.Key, p => p.Value?.ToString());
    }

    private static async Task<HashSet<string>> BicepAppSettingsAsync()
    {
        var site = (await ArmTemplate.LoadAsync()).Single("Microsoft.Web/sites").Properties;
        return site["siteConfig"]!["appSettings"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()).ToHashSet();
    }

    /// <summary>Settings whose value is a map of our own entry type by a name (a tenant, a relay key id), with that type.</summary>
    private static IEnumerable<(string Setting, Type EntryType)> MapSettings(Type options)
    {
        var section = SectionOf(options);
        return options.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true } && p.PropertyType.IsGenericType
                        && p.PropertyType.GetGenericTypeDefinition() == typeof(Dictionary<,>)
                        && p.PropertyType.GetGenericArguments()[1].Assembly == options.Assembly)
            .Select(p => ($"{section}:{p.Name}", p.PropertyType.GetGenericArguments()[1]));
    }

    /// <summary>Each configuration reference row's whole line, by its setting.</summary>
    private static Dictionary<string, string> ReadmeRowTexts() =>
        ReadmeTableLines().Select(l => (Line: l, Match: ReadmeRowPattern().Match(l)))
            .Where(r => r.Match.Success)
            .ToDictionary(r => r.Match.Groups["name"].Value, r => r.Line);

    private static IEnumerable<string> ReadmeTableLines()
    {
        var readme = File.ReadAllLines(Path.Combine(DevScript.RepositoryRoot, "README.md"));
        var start = Array.FindIndex(readme, l => l.Trim() == "## Configuration reference");
        Assert.True(start >= 0, "README.md has no \"## Configuration reference\" section");
        return readme.Skip(start + 1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal));
    }

    /// <summary>The rows of the table under "## Configuration reference": | `Section:Name` | `Section__Name` | default | Bicep | meaning |.</summary>
    private static Dictionary<string, ReadmeRow> ReadmeRows()
    {
        var rows = new Dictionary<string, ReadmeRow>();
        foreach (var line in ReadmeTableLines())
        {
            if (ReadmeRowPattern().Match(line) is { Success: true } m)
                rows[m.Groups["name"].Value] = new ReadmeRow(m.Groups["env"].Value, m.Groups["bicep"].Value.Trim() == "yes");
        }
        return rows;
    }

    [GeneratedRegex(@"(?:[Cc]onfiguration|config)\[""(?<key>[^""]+)""\]|GetValue<[^>]+>\(""(?<key>[^""]+)""|GetConnectionString\(""(?<key>[^""]+)""\)|GetEnvironmentVariable\(""(?<key>[^""]+)""\)|""%(?<key>[^%""]+)%""")]
    private static partial Regex DirectRead();

    [GeneratedRegex(@"configuration\.GetSection\((?<argument>[^)]*)\)")]
    private static partial Regex SectionRead();

    [GeneratedRegex(@"^\w+Options\.Section$")]
    private static partial Regex SimpleSection();

    [GeneratedRegex(@"^\|\s*`(?<name>[^`]+)`\s*\|\s*`?(?<env>[^`|]*?)`?\s*\|[^|]*\|(?<bicep>[^|]*)\|")]
    private static partial Regex ReadmeRowPattern();
}
