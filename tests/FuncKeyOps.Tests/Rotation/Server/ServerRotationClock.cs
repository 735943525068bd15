using System.Net;
using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Server;
using FuncKeyOps.Tests.ProviderKeys;

namespace FuncKeyOps.Tests.Rotation.Server;

/// <summary>
/// Rotations started through the admin API and driven by a Server driver on the host's fake clock: the test moves the
/// clock one poll at a time and waits for the sweep that follows, so holds pass without real waiting.
/// </summary>
internal static class ServerRotationClock
{
    public static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan Signal = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The relay's attempt timeout on this clock. Polly's timeout runs on the host's clock too, and an idle sweep takes
    /// a few milliseconds: <see cref="ShortGrace"/>'s 2 s would time out a call that merely spans two sweeps (the callers
    /// of <see cref="RotationLoadTests"/>), so it stays well beyond the polls one call can span.
    /// </summary>
    private const string UpstreamTimeout = "00:00:10";

    /// <summary>The revoke grace these settings give: the caches' 5.5 s and 2 retries after a 10 s attempt and a 0.25 s Retry-After.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(26);

    /// <summary>
    /// More sweeps than any plan needs with one-second holds (canary: six holds, then the grace a poll at a time) plus
    /// a lease run out.
    /// </summary>
    private static readonly int MaxSweeps = 60 + (int)Math.Ceiling(Grace / Poll);

    /// <summary>The driver's poll and lease, and <see cref="ShortGrace"/>'s settings: the grace passes a poll at a time.</summary>
    public static Dictionary<string, string?> Settings() => ShortGrace.With(new Dictionary<string, string?>
    {
        ["Rotation:PollInterval"] = "00:00:01",
        ["Rotation:LeaseLength"] = "00:00:05",
        ["Relay:UpstreamTimeout"] = UpstreamTimeout,
    });

    /// <summary><c>POST /api/admin/provider-keys/{name}/rotations</c>: the route, the service and the host's driver (woken at once).</summary>
    public static async Task<RotationId> StartAsync(RotationHost host, string keyName, RotationStrategy strategy, string holds = "PT1S")
    {
        var (response, body) = await ProviderKeyCalls.AdminAsync(host.Relay, HttpMethod.Post, $"provider-keys/{keyName}/rotations",
            new { strategy = strategy.ToName(), reason = "server driver test", holds });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return new RotationId(keyName, body.GetProperty("id").GetString()!);
    }

    /// <summary>
    /// Moves the clock a poll at a time, each time waiting for <paramref name="driver"/>'s next sweep (or for
    /// <paramref name="interrupted"/>: a driver stuck inside a step never ends its sweep), until <paramref name="done"/>.
    /// </summary>
    public static async Task AdvanceUntilAsync(RotationHost host, RotationDriverService driver, Func<Task<bool>> done, Task? interrupted = null)
    {
        for (var sweeps = 0; sweeps < MaxSweeps; sweeps++)
        {
            if (await done())
                return;
            var sweep = driver.NextSweepAsync();
            host.Time.Advance(Poll);
            await Task.WhenAny(sweep, interrupted ?? sweep).WaitAsync(Signal);
        }
        Assert.Fail($"not done after {MaxSweeps} polls");
    }

    public static async Task<bool> FinishedAsync(RotationHost host, RotationId rotation) =>
        (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!.IsFinal;
}
