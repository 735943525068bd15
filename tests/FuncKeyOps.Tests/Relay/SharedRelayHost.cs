using FuncKeyOps.Testing.Providers;

namespace FuncKeyOps.Tests.Relay;

/// <summary>
/// One <see cref="RelayHost"/> for a whole test class whose tests change nothing another test reads: each makes
/// its own relay key, reads only its own audit rows, and counts what the fakes received from a
/// <see cref="Snapshot"/> taken before it. xunit runs a class's tests one after another, so the counts are its own.
/// </summary>
public sealed class SharedRelayHost : IAsyncLifetime
{
    private RelayHost? _host;

    internal RelayHost Host => _host ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync() => _host = await RelayHost.StartAsync();

    public async Task DisposeAsync()
    {
        if (_host is not null)
            await _host.DisposeAsync();
    }

    /// <summary>How many requests each fake has received so far, by provider name.</summary>
    internal IReadOnlyDictionary<string, int> Snapshot() =>
        Host.Fakes.All.ToDictionary(f => f.Provider, f => f.Fake.Requests.Count);

    /// <summary>The requests <paramref name="provider"/>'s fake received since <paramref name="before"/>.</summary>
    internal int ReceivedSince(IReadOnlyDictionary<string, int> before, string provider) =>
        Host.Fakes.All.Single(f => f.Provider == provider).Fake.Requests.Count - before[provider];

    internal void AssertNothingForwardedSince(IReadOnlyDictionary<string, int> before)
    {
        foreach (var (provider, _) in Host.Fakes.All)
            Assert.True(ReceivedSince(before, provider) == 0, $"{provider} received a request");
    }
}
