using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using FuncKeyOps.Testing.Vault;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// A provider's admin API (key management) as a real HTTP server on 127.0.0.1, next to the fake that serves the
/// provider's model calls: admin calls are authenticated by an admin credential, not by the keys they manage, and live on
/// another host at the real provider too. Every request is recorded first, then any queued fault applies, then it is served.
/// </summary>
/// <remarks>Never logs; error bodies never echo a credential or a key.</remarks>
public abstract class FakeAdminServer : IAsyncDisposable
{
    private readonly RequestLog _requests = new();
    private readonly List<(int StatusCode, string? PathSuffix)> _faults = [];
    private readonly X509Certificate2? _certificate;
    private readonly bool _ownsCertificate;
    private WebApplication? _app;
    private Uri? _baseUri;

    /// <param name="https">Serve HTTPS with an in-memory self-signed certificate (Azure.Core sends bearer tokens only over TLS).</param>
    private protected FakeAdminServer(bool https)
    {
        _certificate = https ? TestVaultCertificate.Create() : null;
        _ownsCertificate = true;
    }

    /// <summary>Serve HTTPS with <paramref name="certificate"/>, which stays its owner's (a test vault's, so one pin trusts both).</summary>
    private protected FakeAdminServer(X509Certificate2 certificate) => _certificate = certificate;

    /// <summary><c>http(s)://127.0.0.1:PORT/</c>.</summary>
    public Uri BaseUri => _baseUri ?? throw new InvalidOperationException("The fake has not been started.");

    /// <summary>Every request received so far, in arrival order, refused ones included.</summary>
    public IReadOnlyList<RecordedRequest> Requests => _requests.Snapshot();

    /// <summary>
    /// The next <paramref name="times"/> admin requests (only those whose path ends with <paramref name="pathSuffix"/>,
    /// when given) get <paramref name="statusCode"/> with the provider's error body.
    /// </summary>
    public void FailNext(int statusCode, int times = 1, string? pathSuffix = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        ArgumentOutOfRangeException.ThrowIfLessThan(times, 1);
        lock (_faults)
        {
            _faults.AddRange(Enumerable.Repeat((statusCode, pathSuffix), times));
        }
    }

    /// <summary>A handler that trusts exactly this server's certificate (HTTPS fakes), on top of normal validation.</summary>
    public HttpMessageHandler CreateTrustingHandler()
    {
        var pinned = _certificate?.RawData ?? [];
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

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }

        if (_ownsCertificate)
        {
            _certificate?.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    private protected static async Task<T> StartAdminAsync<T>(T fake)
        where T : FakeAdminServer
    {
        try
        {
            await fake.StartServerAsync();
            return fake;
        }
        catch
        {
            await fake.DisposeAsync();
            throw;
        }
    }

    /// <summary>The provider's error body for a status queued with <see cref="FailNext"/>.</summary>
    private protected abstract JsonNode FailureBody(int statusCode);

    /// <summary>Whether queued faults apply to this path (false for a token endpoint the test does not mean to fail).</summary>
    private protected virtual bool TakesFaults(string path) => true;

    private protected abstract Task ServeAsync(HttpContext context, RecordedRequest request);

    private protected static Task WriteJsonAsync(HttpContext context, int statusCode, JsonNode body)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    private async Task StartServerAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = GetType().Name });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(options =>
        {
            options.AddServerHeader = false;
            options.Listen(IPAddress.Loopback, 0, listen =>
            {
                if (_certificate is not null)
                {
                    listen.UseHttps(_certificate);
                }
            });
        });

        _app = builder.Build();
        _app.Run(HandleAsync);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        _baseUri = new Uri(address.TrimEnd('/') + "/");
    }

    private int? TakeFault(string path)
    {
        lock (_faults)
        {
            var index = _faults.FindIndex(f => f.PathSuffix is null || path.EndsWith(f.PathSuffix, StringComparison.OrdinalIgnoreCase));
            if (index < 0)
            {
                return null;
            }

            var statusCode = _faults[index].StatusCode;
            _faults.RemoveAt(index);
            return statusCode;
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        try
        {
            var recorded = await RecordedRequest.CaptureAsync(context, FakeIds.Hex(16), context.RequestAborted);
            _requests.Add(recorded);
            if (TakesFaults(recorded.Path) && TakeFault(recorded.Path) is { } statusCode)
            {
                await WriteJsonAsync(context, statusCode, FailureBody(statusCode));
                return;
            }

            await ServeAsync(context, recorded);
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
    }
}
