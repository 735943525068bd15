using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using FuncKeyOps.Audit;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Functions;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Testing.Storage;
using FuncKeyOps.Testing.Vault;
using FuncKeyOps.Tests.Storage;

namespace FuncKeyOps.Tests.Functions;

/// <summary>
/// The Functions app under a real Functions host, one per test class (a class fixture: starting the host takes
/// seconds), with what <see cref="Relay.RelayHost"/> gives the Server host: the four fake providers, a test vault
/// holding the admin key, each fake's key registered and activated through the admin API, an Azurite (blob, queue
/// and table, as the host needs) with a table prefix of its own. Tests isolate by relay key.
/// Does nothing when no host is found; the tests are skipped then (<see cref="FunctionsHostFactAttribute"/>).
/// </summary>
public class FunctionsApp : IAsyncLifetime
{
    public const string AdminKey = "fake-admin-key-functions-0123456789";
    public const int MaxRequestBodyBytes = 4096;

    private readonly List<IAsyncDisposable> _parts = [];
    private FunctionsHostInstance? _host;
    private AzuriteInstance? _azurite;
    private TestVault? _vault;
    private string? _spillFolder;

    public FakeProviderSet Fakes { get; private set; } = null!;
    public FakeOpenAI OpenAI => Fakes.OpenAI;
    public FakeAnthropic Anthropic => Fakes.Anthropic;
    public FakeGemini Gemini => Fakes.Gemini;
    public FakeAzureOpenAI Azure => Fakes.Azure;
    public IReadOnlyDictionary<string, string> ProviderKeyValues => Fakes.Keys;

    public string TablePrefix { get; } = TestNames.NewTablePrefix();
    public FunctionsHostInstance Host => _host ?? throw new InvalidOperationException("No Functions host: " + FunctionsHostInstance.SkipReason);
    public HttpClient Client { get; private set; } = null!;
    public Uri BaseUri => Host.BaseUri;
    public string StorageConnectionString => _azurite!.ConnectionString;

    /// <summary>The vault the app reads (e.g. a connector's admin key, put there under a fresh name).</summary>
    public TestVault Vault => _vault ?? throw new InvalidOperationException("No Functions host: " + FunctionsHostInstance.SkipReason);

    /// <summary>The relay base URL an SDK is pointed at for a provider.</summary>
    public Uri RelayBase(string provider) => new(BaseUri, $"api/relay/{provider}/");

    /// <summary>A fixture's own app settings (configuration keys, <c>:</c> separated), over the ones every app gets.</summary>
    protected virtual IReadOnlyDictionary<string, string?> MoreSettings => new Dictionary<string, string?>();

    public async Task InitializeAsync()
    {
        if (FunctionsHostInstance.SkipReason is not null)
            return;
        Fakes = await FakeProviderSet.StartAsync();
        _parts.Add(Fakes);
        _vault = await TestVault.StartAsync();
        _vault.SetSecretDirect("fko-admin-key", AdminKey);
        _azurite = await AzuriteInstance.StartAllServicesAsync();
        _spillFolder = Directory.CreateTempSubdirectory("fko-spill-").FullName;

        var settings = TestSettings.AsEnvironment(TestSettings.For(_vault, _azurite.ConnectionString, TablePrefix));
        foreach (var (name, value) in new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = _azurite.AllServicesConnectionString,
            // The local vault is trusted in Development only, as under `./build.sh dev`.
            ["AZURE_FUNCTIONS_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["Relay__RetryBaseDelay"] = "00:00:00.001",
            ["Relay__MaxRequestBodyBytes"] = MaxRequestBodyBytes.ToString(),
            ["Audit__Linger"] = "00:00:00.050",
            ["Audit__SpillPath"] = _spillFolder,
            ["Quotas__FlushInterval"] = "00:00:00.200",
            // The daily rotation schedule's timer (the host does not index it without the setting).
            ["Rotation__Schedule"] = "0 0 3 * * *",
            // The anomaly sweep's timer, likewise (a fixture may set a shorter one in MoreSettings).
            ["Anomalies__Schedule"] = "0 */5 * * * *",
            // The daily retention run's timer, likewise.
            ["Retention__Schedule"] = "0 0 4 * * *",
            // Everything the worker logs, so the secret canary has the most output to look through.
            ["Logging__LogLevel__Default"] = "Debug",
            ["AzureFunctionsJobHost__logging__logLevel__Function"] = "Debug",
        })
        {
            settings[name] = value;
        }
        foreach (var (name, value) in TestSettings.AsEnvironment(MoreSettings))
            settings[name] = value;
        _host = await FunctionsHostInstance.StartAsync(settings);
        Client = new HttpClient { BaseAddress = _host.BaseUri, Timeout = TimeSpan.FromSeconds(100) };

        foreach (var (provider, fake) in Fakes.All)
        {
            await AdminOkAsync(HttpMethod.Put, $"provider-keys/{provider}-main",
                new { provider, baseUrl = fake.BaseUri, secretName = $"{provider}-main" });
            // Only an activated version serves: stage and activate (validated with the fake) in one call.
            await AdminOkAsync(HttpMethod.Post, $"provider-keys/{provider}-main/versions",
                new { value = ProviderKeyValues[provider], activate = true });
        }
    }

    /// <summary>An admin call under /api/manage: with the host's function key and the admin key unless told otherwise.</summary>
    public HttpRequestMessage AdminRequest(HttpMethod method, string path, object? body = null, bool functionKey = true, string? adminKey = AdminKey)
    {
        var request = new HttpRequestMessage(method, "api/manage/" + path);
        if (functionKey)
            request.Headers.Add("x-functions-key", Host.MasterKey);
        if (adminKey is not null)
            request.Headers.Add("x-fko-admin-key", adminKey);
        if (body is not null)
            request.Content = JsonContent.Create(body);
        return request;
    }

    public async Task<JsonElement> AdminOkAsync(HttpMethod method, string path, object? body = null)
    {
        using var response = await Client.SendAsync(AdminRequest(method, path, body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>A relay key made through the admin API (POST relay-keys): its id and its secret.</summary>
    public async Task<(string Id, string Secret)> CreateRelayKeyAsync(object? spec = null)
    {
        var created = await AdminOkAsync(HttpMethod.Post, "relay-keys", spec ?? new { tenant = "tests", name = "everything" });
        return (created.GetProperty("id").GetString()!, created.GetProperty("key").GetString()!);
    }

    /// <summary>
    /// The relay key's audit rows as the Functions app stored them in Azurite, once <paramref name="until"/> holds
    /// for them: rows are written shortly after each answer, by the app's background writer.
    /// </summary>
    public async Task<IReadOnlyList<AuditRecord>> RowsAsync(string? relayKeyId, Func<IReadOnlyList<AuditRecord>, bool> until)
    {
        var query = new AuditQuery(await TablesAsync());
        return await EventuallyAsync(async () =>
        {
            var now = DateTimeOffset.UtcNow;
            var rows = await query.QueryAsync(now.AddHours(-1), now.AddMinutes(5), relayKeyId, 10_000);
            return until(rows) ? rows : null;
        }, $"audit rows of {relayKeyId ?? "no relay key"}");
    }

    /// <summary>The <c>usage</c> table row of a relay key and window, once it holds <paramref name="until"/>.</summary>
    public async Task<TableEntity> UsageRowAsync(string relayKeyId, string window, Func<TableEntity, bool> until)
    {
        var tables = await TablesAsync();
        var usage = await tables.GetTableAsync(TableNames.Usage);
        return await EventuallyAsync(async () =>
            await usage.TryGetAsync<TableEntity>(relayKeyId, window) is { } row && until(row) ? row : null,
            $"usage row {relayKeyId}/{window}");
    }

    /// <summary>How many invocations the host has logged as finished ("Executed 'Functions.X'").</summary>
    public int ExecutedCount => CountOf(Host.Output, "Executed 'Functions.");

    /// <summary>
    /// Waits until the host has logged <paramref name="count"/> finished invocations: what a call logged (the host's
    /// and the worker's lines) is in <see cref="FunctionsHostInstance.Output"/> by then.
    /// </summary>
    public Task WaitForExecutedAsync(int count) =>
        EventuallyAsync(() => Task.FromResult(ExecutedCount >= count ? "" : null), $"{count} invocations in the host's log");

    /// <summary>Waits until the host's output holds <paramref name="text"/> (a line the worker wrote reaches it shortly after).</summary>
    public Task OutputContainsAsync(string text) =>
        EventuallyAsync(() => Task.FromResult(Host.Output.Contains(text, StringComparison.Ordinal) ? "" : null), $"'{text}' in the host's log");

    private static int CountOf(string text, string marker)
    {
        var count = 0;
        for (var i = text.IndexOf(marker, StringComparison.Ordinal); i >= 0; i = text.IndexOf(marker, i + marker.Length, StringComparison.Ordinal))
            count++;
        return count;
    }

    /// <summary>The app's tables in its Azurite, under its table prefix.</summary>
    public Task<TableStore> TablesAsync() => TestTables.CreateAsync(TablePrefix, StorageConnectionString);

    /// <summary>
    /// Polls the app (its storage, its admin API) until <paramref name="read"/> finds what it looks for (at most
    /// <paramref name="within"/>, 30 s unless told; every <paramref name="every"/>, 100 ms unless told): the app runs in
    /// another process, so no signal of its can reach the test.
    /// </summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T?>> read, string what, TimeSpan? within = null, TimeSpan? every = null) where T : class
    {
        var bound = within ?? TimeSpan.FromSeconds(30);
        var deadline = DateTimeOffset.UtcNow + bound;
        while (true)
        {
            if (await read() is { } found)
                return found;
            if (DateTimeOffset.UtcNow > deadline)
                throw new TimeoutException($"The Functions app did not store {what} within {bound.TotalSeconds} s.");
            await Task.Delay(every ?? TimeSpan.FromMilliseconds(100));
        }
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        // The host first: its worker writes the audit rows it holds while storage and the vault still answer.
        if (_host is not null)
        {
            await _host.DisposeAsync();
            // For a look at what the host and worker printed (e.g. after a failure in CI).
            if (Environment.GetEnvironmentVariable("FKO_FUNCTIONS_HOST_LOG_DIR") is { Length: > 0 } logs)
                await File.WriteAllTextAsync(Path.Combine(logs, $"functions-host-{TablePrefix}.log"), $"started in {_host.StartTime}\n{_host.Output}");
        }
        if (_azurite is not null)
            await _azurite.DisposeAsync();
        if (_vault is not null)
            await _vault.DisposeAsync();
        foreach (var part in _parts)
            await part.DisposeAsync();
        if (_spillFolder is not null)
            Directory.Delete(_spillFolder, recursive: true);
    }
}
