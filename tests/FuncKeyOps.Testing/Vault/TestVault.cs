using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Testing.Vault;

/// <summary>
/// A Key Vault-compatible secrets endpoint over HTTPS on 127.0.0.1, for driving the real
/// <c>SecretClient</c> in tests. Data lives in memory and survives <see cref="StopAsync"/> /
/// <see cref="StartAgainAsync"/>, so tests can take the vault away mid-run and bring it back.
/// </summary>
public sealed class TestVault : IAsyncDisposable
{
    /// <summary>Tenant the vault's challenge names; the SDK passes it to the credential.</summary>
    public const string TenantId = VaultRequestHandler.TenantId;

    private readonly TestVaultOptions _options;
    private readonly VaultStore _store;
    private readonly VaultRequestHandler _handler;
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private WebApplication? _app;
    private Uri? _vaultUri;
    private long _requestCount;
    private bool _disposed;

    private TestVault(TestVaultOptions options)
    {
        _options = options;
        _store = new VaultStore(options.TimeProvider);
        _handler = new VaultRequestHandler(_store, () => VaultUri, () => Interlocked.Increment(ref _requestCount), Faults);
        Certificate = TestVaultCertificate.Create();
        CertificateThumbprint = Certificate.Thumbprint;
    }

    /// <summary>The vault URI clients use, e.g. <c>https://127.0.0.1:PORT/</c>.</summary>
    public Uri VaultUri => _vaultUri ?? throw new InvalidOperationException("The vault has not been started.");

    /// <summary>The self-signed server certificate (SAN 127.0.0.1 and localhost). It exists only in memory.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>SHA-1 thumbprint of <see cref="Certificate"/> in upper-case hex, for clients that pin it.</summary>
    public string CertificateThumbprint { get; }

    /// <summary>A credential the vault accepts. Shared, so tests can see how often the SDK asked for a token.</summary>
    public TestVaultCredential Credential { get; } = new();

    /// <summary>Switches that make the vault slow or failing.</summary>
    public VaultFaults Faults { get; } = new();

    /// <summary>Authenticated requests served (challenge round trips not counted).</summary>
    public long RequestCount => Interlocked.Read(ref _requestCount);

    /// <summary>Whether the vault is accepting connections.</summary>
    public bool IsRunning => _app is not null;

    public static Task<TestVault> StartAsync(int port = 0, CancellationToken ct = default) =>
        StartAsync(new TestVaultOptions { Port = port }, ct);

    public static async Task<TestVault> StartAsync(TestVaultOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Port);
        var vault = new TestVault(options);
        try
        {
            await vault.StartAgainAsync(ct);
            return vault;
        }
        catch
        {
            await vault.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A handler that accepts this vault's certificate on top of normal validation. Pinning the exact
    /// certificate bytes (rather than disabling validation) keeps the TLS path honest in tests.
    /// </summary>
    public HttpMessageHandler CreateTrustingHandler()
    {
        byte[] pinned = Certificate.RawData;
        return new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                    errors == SslPolicyErrors.None ||
                    (certificate is not null && CryptographicOperations.FixedTimeEquals(certificate.GetRawCertData(), pinned)),
            },
        };
    }

    /// <summary>Seeds a version without going through HTTP (not counted in <see cref="RequestCount"/>); returns its version id.</summary>
    public string SetSecretDirect(
        string name,
        string value,
        IReadOnlyDictionary<string, string>? tags = null,
        string? contentType = null,
        bool enabled = true)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!SecretName.IsValid(name))
        {
            throw new ArgumentException("Key Vault names are 1-127 characters of letters, digits and dashes.", nameof(name));
        }

        return Direct(() => _store.Set(name, new VaultSecretWrite(value, contentType, tags, enabled, null, null))).Version;
    }

    /// <summary>Enables or disables a version without going through HTTP, e.g. to simulate an operator's change.</summary>
    public void SetEnabledDirect(string name, string version, bool enabled) =>
        Direct(() => _store.Update(name, version, new VaultSecretPatch(null, null, enabled, null, null)));

    // The store speaks in HTTP errors; a direct caller gets an ordinary exception instead of an internal type.
    private static T Direct<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (VaultException e)
        {
            throw new InvalidOperationException($"{e.Code}: {e.Message}");
        }
    }

    /// <summary>Stops listening: new connections are refused and open ones closed. The data is kept.</summary>
    public async Task StopAsync()
    {
        await _lifecycle.WaitAsync();
        try
        {
            await StopCoreAsync();
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Listens again on the same port with the same certificate and data. No-op when already running.</summary>
    public async Task StartAgainAsync(CancellationToken ct = default)
    {
        await _lifecycle.WaitAsync(ct);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_app is not null)
            {
                return;
            }

            int port = _vaultUri?.Port ?? _options.Port;
            var app = BuildApp(port);
            try
            {
                await app.StartAsync(ct);
            }
            catch
            {
                await app.DisposeAsync();
                throw;
            }

            _vaultUri ??= new Uri($"https://127.0.0.1:{BoundPort(app)}/");
            _app = app;
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _lifecycle.WaitAsync();
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await StopCoreAsync();
            Certificate.Dispose();
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private async Task StopCoreAsync()
    {
        if (_app is not { } app)
        {
            return;
        }

        _app = null;
        try
        {
            await app.StopAsync();
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    private WebApplication BuildApp(int port)
    {
        // The empty builder reads no appsettings or ASPNETCORE_* variables, so the environment of a test
        // run cannot add endpoints or turn request logging on.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(TestVault).Assembly.GetName().Name });
        builder.WebHost.UseKestrelCore();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, port, listen => listen.UseHttps(Certificate));
        });

        builder.Logging.ClearProviders();
        _options.ConfigureLogging?.Invoke(builder.Logging);
        // Applied last so no caller can lower it: below Warning, ASP.NET Core logs request details.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter(level => level >= LogLevel.Warning);

        // A hung request must not make StopAsync hang a test.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));

        var app = builder.Build();
        app.Run(_handler.HandleAsync);
        return app;
    }

    private static int BoundPort(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        return new Uri(addresses.First()).Port;
    }
}
