namespace FuncKeyOps.Testing.Storage;

/// <summary>
/// One Azurite for the whole test run: the one `build.sh test` started (FKO_TEST_STORAGE_CONNECTION_STRING),
/// else one started on first use and killed when the test process exits. Tests isolate by table prefix.
/// </summary>
public static class SharedAzurite
{
    public const string ConnectionStringVariable = "FKO_TEST_STORAGE_CONNECTION_STRING";

    private static readonly Lazy<Task<string>> Instance = new(StartAsync);

    public static Task<string> GetConnectionStringAsync() => Instance.Value;

    private static async Task<string> StartAsync()
    {
        if (Environment.GetEnvironmentVariable(ConnectionStringVariable) is { Length: > 0 } configured)
            return configured;
        var azurite = await AzuriteInstance.StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => azurite.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return azurite.ConnectionString;
    }
}
