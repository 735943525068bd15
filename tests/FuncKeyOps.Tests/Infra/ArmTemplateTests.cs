using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FuncKeyOps.Tests.Infra;

/// <summary>
/// The deployment's security properties, read from the ARM JSON compiled from infra/bicep: what a reviewer of the
/// Bicep would check by hand, held for every later change.
/// </summary>
public sealed partial class ArmTemplateTests
{
    private const string CustomRole = "custom: Azure OpenAI key rotator";

    // Built-in roles the app's identity may hold, each with the one resource type it may be assigned on.
    private static readonly Dictionary<string, string> AllowedRoles = new(StringComparer.OrdinalIgnoreCase)
    {
        ["4633458b-17de-408a-b874-0445c86b69e6"] = "Microsoft.KeyVault/vaults", // Key Vault Secrets User
        ["b86a8fe4-44ce-4948-aee5-eccb2c155cd7"] = "Microsoft.KeyVault/vaults", // Key Vault Secrets Officer
        ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "Microsoft.Storage/storageAccounts", // Storage Blob Data Owner
        ["974c5e8b-45b9-4653-ba55-5f855dd0fb88"] = "Microsoft.Storage/storageAccounts", // Storage Queue Data Contributor
        ["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"] = "Microsoft.Storage/storageAccounts", // Storage Table Data Contributor
        ["3913510d-42f4-4e42-8a64-420c390055eb"] = "Microsoft.Insights/components", // Monitoring Metrics Publisher
        [CustomRole] = "Microsoft.CognitiveServices/accounts",
    };

    // Settings the Flex Consumption plan rejects or ignores: runtime and content live in functionAppConfig there.
    private static readonly string[] SettingsFlexRejects =
    [
        "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_WORKER_RUNTIME_VERSION", "FUNCTIONS_EXTENSION_VERSION",
        "FUNCTIONS_MAX_HTTP_CONCURRENCY", "FUNCTIONS_WORKER_PROCESS_COUNT", "FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED",
        "WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "WEBSITE_CONTENTSHARE",
        "WEBSITE_CONTENTOVERVNET", "WEBSITE_NODE_DEFAULT_VERSION", "WEBSITE_SKIP_CONTENTSHARE_VALIDATION",
        "WEBSITE_VNET_ROUTE_ALL", "WEBSITES_ENABLE_APP_SERVICE_STORAGE", "SCM_DO_BUILD_DURING_DEPLOYMENT", "ENABLE_ORYX_BUILD",
        "AzureWebJobsStorage", "APPINSIGHTS_INSTRUMENTATIONKEY",
    ];

    [Fact]
    public async Task Key_vault_is_in_RBAC_mode_with_soft_delete_and_purge_protection()
    {
        var vault = (await ArmTemplate.LoadAsync()).Single("Microsoft.KeyVault/vaults").Properties;

        Assert.True(vault["enableRbacAuthorization"]!.GetValue<bool>());
        Assert.True(vault["enableSoftDelete"]!.GetValue<bool>());
        Assert.True(vault["enablePurgeProtection"]!.GetValue<bool>());
        Assert.Null(vault["accessPolicies"]);
    }

    [Fact]
    public async Task Storage_refuses_shared_keys_public_blobs_plain_http_and_TLS_below_1_2()
    {
        var storage = (await ArmTemplate.LoadAsync()).Single("Microsoft.Storage/storageAccounts").Properties;

        Assert.False(storage["allowSharedKeyAccess"]!.GetValue<bool>());
        Assert.Equal("TLS1_2", storage["minimumTlsVersion"]!.GetValue<string>());
        Assert.False(storage["allowBlobPublicAccess"]!.GetValue<bool>());
        Assert.True(storage["supportsHttpsTrafficOnly"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Function_app_is_HTTPS_only_on_Flex_Consumption_with_dotnet_isolated_10()
    {
        var template = await ArmTemplate.LoadAsync();
        var plan = template.Single("Microsoft.Web/serverfarms").Body;
        var site = template.Single("Microsoft.Web/sites").Properties;

        Assert.Equal("FC1", plan["sku"]!["name"]!.GetValue<string>());
        Assert.Equal("FlexConsumption", plan["sku"]!["tier"]!.GetValue<string>());
        Assert.True(site["httpsOnly"]!.GetValue<bool>());
        var config = site["functionAppConfig"]!;
        Assert.Equal("dotnet-isolated", config["runtime"]!["name"]!.GetValue<string>());
        Assert.Equal("10.0", config["runtime"]!["version"]!.GetValue<string>());
        Assert.NotNull(config["scaleAndConcurrency"]!["instanceMemoryMB"]);
        Assert.NotNull(config["scaleAndConcurrency"]!["maximumInstanceCount"]);
        var deployment = config["deployment"]!["storage"]!;
        Assert.Equal("blobContainer", deployment["type"]!.GetValue<string>());
        Assert.Equal("UserAssignedIdentity", deployment["authentication"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task App_settings_are_identity_based_and_none_is_one_Flex_rejects()
    {
        var settings = AppSettings(await ArmTemplate.LoadAsync()).ToDictionary(s => s.Name, s => s.Value);

        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.Contains("identityClientId", settings["AzureWebJobsStorage__clientId"]);
        Assert.Contains("storageAccountName", settings["AzureWebJobsStorage__accountName"]);
        Assert.Equal("[parameters('blobEndpoint')]", settings["AzureWebJobsStorage__blobServiceUri"]);
        Assert.Equal("[parameters('queueEndpoint')]", settings["AzureWebJobsStorage__queueServiceUri"]);
        Assert.Equal("[parameters('tableEndpoint')]", settings["AzureWebJobsStorage__tableServiceUri"]);
        Assert.Matches("ClientId=.*;Authorization=AAD", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
        Assert.Contains("keyVaultUri", settings["KeyVault__Uri"]);
        Assert.Contains("identityClientId", settings["KeyVault__ManagedIdentityClientId"]);
        Assert.Contains("tableEndpoint", settings["Storage__TableEndpoint"]);
        Assert.Empty(settings.Keys.Intersect(SettingsFlexRejects, StringComparer.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Every_role_assignment_is_an_allowed_role_scoped_to_the_one_resource_it_needs()
    {
        var template = await ArmTemplate.LoadAsync();
        var assignments = template.OfType("Microsoft.Authorization/roleAssignments").ToList();
        var roleDefinition = template.Single("Microsoft.Authorization/roleDefinitions");
        var customRoleName = Unbracket(ArmTemplate.Expand(ArmTemplate.Text(roleDefinition.Body["name"]!), roleDefinition.Scope));

        // Key Vault, storage (one declaration for the three data roles), Application Insights, each Azure OpenAI account.
        Assert.Equal(4, assignments.Count);
        var granted = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var assignment in assignments)
        {
            var role = ArmTemplate.Expand(ArmTemplate.Text(assignment.Properties["roleDefinitionId"]!), assignment.Scope);
            var roles = Guid().Matches(role).Select(m => m.Value).ToList();
            if (role.Contains(customRoleName, StringComparison.Ordinal))
                roles.Add(CustomRole);
            Assert.True(roles.Count > 0, "role assignment with a role this test cannot read: " + role);

            // No scope is the deployment's resource group: never allowed. A scope is one resource of the role's type.
            var scope = assignment.Body["scope"]?.GetValue<string>() ?? "(resource group)";
            var scopeType = ScopedResourceType().Match(scope);
            Assert.True(scopeType.Success, "role assignment scoped wider than a resource: " + scope);
            foreach (var id in roles)
            {
                Assert.True(AllowedRoles.TryGetValue(id, out var allowedType), $"role {id} is not on the allowed list");
                Assert.Equal(allowedType, scopeType.Groups[1].Value);
                granted.Add(id);
            }
        }
        Assert.Equal(AllowedRoles.Keys.Order(), granted.Order());
    }

    [Fact]
    public async Task The_Azure_OpenAI_role_allows_only_read_listKeys_and_regenerateKey_assignable_where_the_accounts_are()
    {
        var definition = (await ArmTemplate.LoadAsync()).Single("Microsoft.Authorization/roleDefinitions");
        var role = definition.Properties;

        var permission = Assert.Single(role["permissions"]!.AsArray())!;
        Assert.Equal(
            ["Microsoft.CognitiveServices/accounts/listKeys/action", "Microsoft.CognitiveServices/accounts/read",
             "Microsoft.CognitiveServices/accounts/regenerateKey/action"],
            permission["actions"]!.AsArray().Select(a => a!.GetValue<string>()).Order());
        Assert.Empty(permission["dataActions"]!.AsArray());
        // Assignable in the accounts' resource groups, built per account; never the subscription as a whole.
        var scopes = role["copy"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "assignableScopes")!;
        Assert.Contains("subscriptionResourceId('Microsoft.Resources/resourceGroups'", scopes["input"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_Azure_OpenAI_role_is_defined_at_the_subscription_and_assigned_by_its_subscription_id()
    {
        var template = await ArmTemplate.LoadAsync();
        var definition = template.Single("Microsoft.Authorization/roleDefinitions");

        // A role whose assignableScopes name other resource groups cannot be defined in the deployment's own group:
        // its module is a deployment at the subscription (subscriptionId, no resourceGroup), of a subscription template.
        var deployment = definition.Scope.Deployment!;
        Assert.Contains("subscriptionDeploymentTemplate", definition.Scope.Template["$schema"]!.GetValue<string>());
        Assert.NotNull(deployment["subscriptionId"]);
        Assert.Null(deployment["resourceGroup"]);
        var name = ArmTemplate.Expand(ArmTemplate.Text(definition.Body["name"]!), definition.Scope);
        Assert.Contains("guid(subscription().id, resourceGroup().id,", name);

        var custom = template.OfType("Microsoft.Authorization/roleAssignments")
            .Select(a => ArmTemplate.Expand(ArmTemplate.Text(a.Properties["roleDefinitionId"]!), a.Scope))
            .Single(r => r.Contains("guid(subscription().id, resourceGroup().id,", StringComparison.Ordinal));
        Assert.StartsWith("subscriptionResourceId('Microsoft.Authorization/roleDefinitions',", custom.TrimStart('['));
    }

    [Fact]
    public async Task No_parameter_file_names_an_Azure_OpenAI_account_the_operator_did_not()
    {
        var files = (await ArmTemplate.LoadAsync()).ParameterFiles;

        Assert.Equal(2, files.Count);
        Assert.All(files, f => Assert.Empty(f["parameters"]!["azureOpenAIAccounts"]!["value"]!.AsArray()));
    }

    [Fact]
    public async Task The_vault_can_be_recovered_from_soft_delete_by_a_parameter()
    {
        var template = await ArmTemplate.LoadAsync();
        var vault = template.Single("Microsoft.KeyVault/vaults");

        Assert.Equal("[if(parameters('recover'), 'recover', 'default')]", vault.Properties["createMode"]!.GetValue<string>());
        var recover = template.Root["parameters"]!["recoverKeyVault"]!;
        Assert.Equal("bool", recover["type"]!.GetValue<string>());
        Assert.False(recover["defaultValue"]!.GetValue<bool>());
        Assert.Equal("[parameters('recoverKeyVault')]", vault.Scope.Deployment!["properties"]!["parameters"]!["recover"]!["value"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_admin_key_template_takes_a_secure_key_without_default_and_writes_one_secret()
    {
        var template = await ArmTemplate.LoadCompiledAsync("admin-key.json");

        var key = template["parameters"]!["adminKey"]!;
        Assert.Equal("securestring", key["type"]!.GetValue<string>(), ignoreCase: true);
        Assert.Null(key["defaultValue"]);
        Assert.Equal(32, key["minLength"]!.GetValue<int>());
        var secret = Assert.Single(template["resources"]!.AsArray(), r => r!["existing"] is null)!;
        Assert.Equal("Microsoft.KeyVault/vaults/secrets", secret["type"]!.GetValue<string>());
        Assert.Equal("[parameters('adminKey')]", secret["properties"]!["value"]!.GetValue<string>());
        Assert.Null(template["outputs"]);
    }

    [Fact]
    public async Task No_secret_or_key_bearing_connection_string_in_parameters_app_settings_or_outputs()
    {
        var template = await ArmTemplate.LoadAsync();
        var values = new List<(string Where, string Value)>();
        foreach (var scope in template.Scopes)
        {
            foreach (var (name, parameter) in scope.Template["parameters"]?.AsObject() ?? [])
            {
                // A secure parameter has no default: a default would be stored in the template in clear.
                // (A parameter of a user-defined type has "$ref" instead of "type".)
                if (parameter!["type"]?.GetValue<string>() is { } type && type.StartsWith("secure", StringComparison.OrdinalIgnoreCase))
                    Assert.Null(parameter["defaultValue"]);
                if (parameter["defaultValue"] is { } value)
                    values.Add(($"parameter {name}", ArmTemplate.Text(value)));
            }
            foreach (var (name, output) in scope.Template["outputs"]?.AsObject() ?? [])
                values.Add(($"output {name}", ArmTemplate.Text(output!["value"]!)));
        }
        values.AddRange(AppSettings(template).Select(s => ($"app setting {s.Name}", s.Value)));
        foreach (var file in template.ParameterFiles)
        {
            foreach (var (name, parameter) in file["parameters"]!.AsObject())
                values.Add(($"parameter file value {name}", ArmTemplate.Text(parameter!)));
        }

        Assert.True(values.Count > 40, $"only {values.Count} values read: the template's shape changed under this test");
        Assert.All(values, v => Assert.False(KeyBearing().IsMatch(v.Value), $"{v.Where} carries a key: {v.Value}"));
    }

    private static IEnumerable<(string Name, string Value)> AppSettings(ArmTemplate template)
    {
        var settings = template.Single("Microsoft.Web/sites").Properties["siteConfig"]!["appSettings"]!.AsArray();
        Assert.NotEmpty(settings);
        return settings.Select(s => (s!["name"]!.GetValue<string>(), ArmTemplate.Text(s["value"]!)));
    }

    private static string Unbracket(string expression) => expression.TrimStart('[').TrimEnd(']');

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", RegexOptions.IgnoreCase)]
    private static partial Regex Guid();

    [GeneratedRegex(@"^\[resourceId\('([^']+)', [^,\]]+\)\]$")]
    private static partial Regex ScopedResourceType();

    // A literal key, a SAS, an instrumentation-key connection string, or an expression that reads keys or secrets.
    [GeneratedRegex(@"AccountKey=|SharedAccessSignature|SharedAccessKey|InstrumentationKey=|[?&]sig=|\blist(Keys|Secrets|ConnectionStrings|AccountSas|ServiceSas)\(", RegexOptions.IgnoreCase)]
    private static partial Regex KeyBearing();
}
