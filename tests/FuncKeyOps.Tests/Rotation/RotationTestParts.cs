using System.Collections.Concurrent;
using FuncKeyOps.Alerts;
using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Testing.Providers;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>Keeps every alert once per DedupeKey, as the real sinks promise.</summary>
internal sealed class RecordingAlertSink : IAlertSink
{
    private readonly ConcurrentDictionary<string, byte> _keys = new();
    private readonly ConcurrentQueue<Alert> _sent = new();
    private int _published;

    /// <summary>Publish calls, repeats included.</summary>
    public int Published => Volatile.Read(ref _published);

    /// <summary>The alerts sent, once each, in the order they were first published.</summary>
    public IReadOnlyList<Alert> Alerts => _sent.ToList();

    public IReadOnlyList<Alert> For(string subject) => Alerts.Where(a => a.Subject == subject).ToList();

    public Task PublishAsync(Alert alert, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _published);
        if (_keys.TryAdd(alert.DedupeKey, 0))
            _sent.Enqueue(alert);
        return Task.CompletedTask;
    }
}

/// <summary>A driver that drives nothing: the tests run the steps themselves. Says "running" when told to.</summary>
internal sealed class TestRotationDriver : IRotationDriver
{
    public ConcurrentQueue<RotationId> Scheduled { get; } = new();
    public ConcurrentQueue<RotationId> Signalled { get; } = new();
    public ConcurrentDictionary<string, bool> Running { get; } = new();

    public Task<bool> IsRunningAsync(string keyName, CancellationToken cancellationToken) => Task.FromResult(Running.GetValueOrDefault(keyName));

    public Task ScheduleAsync(RotationId rotation, CancellationToken cancellationToken)
    {
        Scheduled.Enqueue(rotation);
        return Task.CompletedTask;
    }

    public Task SignalAbortAsync(RotationId rotation, CancellationToken cancellationToken)
    {
        Signalled.Enqueue(rotation);
        return Task.CompletedTask;
    }
}

/// <summary>
/// A test-only connector that makes keys on a fake provider (the real ones come with their own admin APIs): a key
/// per rotation id, found again on a re-run, accepted by the fake until revoked. Counts effective creates and revokes
/// per provider key name, so a test can show a re-run never made or revoked a key twice.
/// </summary>
internal sealed class FakeProviderConnector : IKeyConnector
{
    public const string ConnectorName = "fake";

    private readonly ConcurrentDictionary<string, string> _keyByRotation = new();
    private readonly ConcurrentDictionary<string, byte> _revoked = new();

    public string Name => ConnectorName;

    public FakeProvider? Provider { get; set; }

    /// <summary>Creates refused from now on (a provider that says no).</summary>
    public bool RefuseCreates { get; set; }

    /// <summary>Makes keys the fake does not accept (validation must refuse them).</summary>
    public bool MakeBadKeys { get; set; }

    /// <summary>Revokes fail from now on: for good (an admin credential refused) or, when transient, until cleared.</summary>
    public ConnectorRevocation? FailRevokes { get; set; }

    public ConcurrentDictionary<string, int> Creates { get; } = new();
    public ConcurrentDictionary<string, int> Revokes { get; } = new();
    public ConcurrentDictionary<string, int> Calls { get; } = new();

    public string? KeyOf(string rotationId) => _keyByRotation.GetValueOrDefault(rotationId);

    public Task<ConnectorCreation> CreateAsync(ConnectorRequest request, CancellationToken cancellationToken)
    {
        Calls.AddOrUpdate(request.Key.Name, 1, (_, n) => n + 1);
        if (RefuseCreates)
            return Task.FromResult(new ConnectorCreation(ConnectorCreateOutcome.Failed, Detail: "refused by the test"));
        var created = false;
        var key = _keyByRotation.GetOrAdd(request.RotationId, _ =>
        {
            created = true;
            return "fake-rotated-" + Guid.NewGuid().ToString("N");
        });
        if (created)
        {
            Creates.AddOrUpdate(request.Key.Name, 1, (_, n) => n + 1);
            if (!MakeBadKeys)
                Provider!.AcceptKey(key);
        }
        return Task.FromResult(new ConnectorCreation(ConnectorCreateOutcome.Created, key, "id-" + key[^12..]));
    }

    public Task<ConnectorRevocation> RevokeAsync(ConnectorRequest request, RevokedVersion version, CancellationToken cancellationToken)
    {
        Calls.AddOrUpdate(request.Key.Name, 1, (_, n) => n + 1);
        var id = version.ProviderKeyId ?? throw new InvalidOperationException("A version without a providerKeyId tag.");
        if (FailRevokes is { } failure)
            return Task.FromResult(failure);
        if (!_revoked.TryAdd(id, 0))
            return Task.FromResult(new ConnectorRevocation(ConnectorRevokeOutcome.AlreadyGone));
        Revokes.AddOrUpdate(request.Key.Name, 1, (_, n) => n + 1);
        if (_keyByRotation.Values.FirstOrDefault(k => "id-" + k[^12..] == id) is { } key)
            Provider!.RevokeKey(key);
        else if (InitialKeys.TryGetValue(id, out var initial))
            Provider!.RevokeKey(initial);
        return Task.FromResult(new ConnectorRevocation(ConnectorRevokeOutcome.Revoked));
    }

    /// <summary>The fake names each key <c>id-</c> and its value's last 12 characters.</summary>
    public Task<KeyIdConfirmation> ConfirmKeyIdAsync(FuncKeyOps.ProviderKeys.ProviderKeyConfig key, string value, string providerKeyId, CancellationToken cancellationToken) =>
        Task.FromResult(providerKeyId == "id-" + value[^12..] ? KeyIdConfirmation.Confirmed(providerKeyId) : KeyIdConfirmation.Refused($"{providerKeyId} is not the value's key"));

    /// <summary>Keys a test registered as a key's first version, by their provider key id.</summary>
    public ConcurrentDictionary<string, string> InitialKeys { get; } = new();
}
