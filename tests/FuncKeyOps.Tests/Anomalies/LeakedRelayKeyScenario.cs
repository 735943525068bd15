using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using FuncKeyOps.Alerts;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Actions;
using FuncKeyOps.Anomalies.Baselines;
using FuncKeyOps.Anomalies.Detection;
using FuncKeyOps.Audit;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing.Alerts;
using FuncKeyOps.Testing.Vault;
using OpenAI;
using OpenAI.Chat;
using static FuncKeyOps.Tests.Anomalies.SweepRows;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// What the scenario needs of a host (the Server host, the Functions host): its relay, its admin API, its storage
/// and vault, how a client's calls come to be audited from a given source address, and how the sweep is brought to
/// the seeded week and to the burst. The rest is <see cref="LeakedRelayKeyScenario"/>, the same for both.
/// </summary>
internal interface ILeakHost
{
    /// <summary>The relay's OpenAI base, <c>.../api/relay/openai/</c>.</summary>
    Uri RelayBase { get; }

    /// <summary>The admin key the host accepts (its fingerprint is the actor of an admin's trail rows).</summary>
    string AdminKey { get; }

    TestVault Vault { get; }

    /// <summary>The client's usual address, as the host audits it: the one the seeded week comes from.</summary>
    string OfficeSource { get; }

    /// <summary>An address the key was never used from, as the host audits it: the leak's.</summary>
    string LeakSource { get; }

    /// <summary>The host's clock.</summary>
    DateTimeOffset Now { get; }

    /// <summary>An HTTP transport whose calls the host audits as coming from <paramref name="source"/>.</summary>
    HttpMessageHandler From(string source);

    Task<TableStore> TablesAsync();

    /// <summary>An admin call: status and JSON body (default when empty).</summary>
    Task<(HttpStatusCode Status, JsonElement Body)> AdminAsync(HttpMethod method, string path, object? body = null);

    /// <summary>The week of normal traffic to seed: whole windows from its start to before its end.</summary>
    LeakWeek Week();

    /// <summary>The week is seeded: bring the sweep to it (sweep it, or set it going over it).</summary>
    Task SweepWeekAsync(LeakWeek week);

    /// <summary>Just before the burst: whatever the host needs so that the burst lands in one window.</summary>
    Task BeforeBurstAsync();

    /// <summary>The burst was answered: have the sweep judge <paramref name="window"/> and return once its finding is stored.</summary>
    Task SweepBurstAsync(SweepWindow window);
}

/// <summary>The seeded week: from the first window's start to the end of the last (<see cref="End"/>, excluded).</summary>
internal sealed record LeakWeek(DateTimeOffset Start, DateTimeOffset End);

/// <summary>
/// Issue 21's leaked relay key, end to end with the official OpenAI SDK, for any host (<see cref="ILeakHost"/>): a week
/// of the key's normal traffic from its usual address, seeded as audit rows and swept, builds its baseline and teaches
/// the sweep its source; then 150 calls from an address it was never used from. The sweep raises exactly one finding
/// (<c>new_source</c>, high, the key suspended) and one alert reaches the webhook the test owns; the key's next call
/// answers 401 in OpenAI's error shape, whichever address it comes from; <c>resume</c> restores it; the admin trail
/// has the sweep's suspension and alert and the admin's resume.
/// </summary>
internal sealed class LeakedRelayKeyScenario
{
    /// <summary>The relay key's tenant: the settings below apply to it alone.</summary>
    public const string Tenant = "leak-drill";

    public const int BurstCalls = 150;
    public const int OfficeCallsInBurst = 5;

    /// <summary>
    /// Settings both hosts start with. The catch-up over the seeded week is one run (2016 windows and the hour the week
    /// starts in). quiet_hours needs more calls than the burst's window holds for this tenant: on a host with the real
    /// clock the burst may land between 02:00 and 06:00 UTC, where 155 calls from a key that makes one a window is
    /// rightly a quiet-hours finding too; the scenario is about new_source, and gives the same findings whatever the hour.
    /// </summary>
    public static Dictionary<string, string?> Settings() => new()
    {
        ["Anomalies:MaxWindowsPerRun"] = "2100",
        [$"Anomalies:Tenants:{Tenant}:QuietHoursMinCalls"] = (BurstCalls + OfficeCallsInBurst).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The key's normal calls per window: more in office hours (UTC), one a window otherwise.</summary>
    public static int NormalCallsPerWindow(DateTimeOffset windowStart) => windowStart.UtcDateTime.Hour is >= 8 and < 18 ? 3 : 1;

    public static async Task RunAsync(ILeakHost host)
    {
        await using var webhook = await WebhookReceiver.StartAsync();
        host.Vault.SetSecretDirect(new AlertOptions().WebhookSecret, webhook.Url.ToString());
        var (created, createdBody) = await host.AdminAsync(HttpMethod.Post, "relay-keys", new { tenant = Tenant, name = "leaked" });
        Assert.True(created == HttpStatusCode.Created, $"{created}: {createdBody}");
        var keyId = createdBody.GetProperty("id").GetString()!;
        var secret = createdBody.GetProperty("key").GetString()!;
        var subject = FindingSubject.RelayKey(keyId);

        // A week of normal traffic from the usual address, swept: the baseline and the known source.
        var week = host.Week();
        var seeded = await SeedWeekAsync(await host.TablesAsync(), week, keyId, host.OfficeSource);
        await host.SweepWeekAsync(week);

        // The usual client goes on; the leaked key is used from an address it never was.
        await host.BeforeBurstAsync();
        var office = Chat(host, secret, host.OfficeSource);
        var leak = Chat(host, secret, host.LeakSource);
        var window = SweepWindow.Containing(host.Now);
        for (var i = 0; i < OfficeCallsInBurst; i++)
            Assert.NotEmpty((await office.CompleteChatAsync([new UserChatMessage("hi")])).Value.Content);
        for (var i = 0; i < BurstCalls; i++)
            Assert.NotEmpty((await leak.CompleteChatAsync([new UserChatMessage("hi")])).Value.Content);
        Assert.True(window == SweepWindow.Containing(host.Now), $"the burst ran from window {window.Id} into {SweepWindow.Containing(host.Now).Id}");
        await host.SweepBurstAsync(window);

        // Exactly one finding over the week and the burst: new_source, high, the key suspended.
        var (listed, list) = await host.AdminAsync(HttpMethod.Get, $"findings?from={Iso(week.Start)}&to={Iso(window.End)}");
        Assert.True(listed == HttpStatusCode.OK, $"{listed}: {list}");
        var finding = Assert.Single(list.GetProperty("items").EnumerateArray());
        var id = finding.GetProperty("id").GetString()!;
        Assert.Equal(NewSourceDetector.SingleSourceId(subject, host.LeakSource, window), id);
        Assert.Equal((Detectors.NewSource, subject, window.Start, "high", (double)BurstCalls, 10.0),
            (finding.GetProperty("detector").GetString(), finding.GetProperty("subject").GetString(), finding.GetProperty("windowStart").GetDateTimeOffset(),
             finding.GetProperty("severity").GetString(), finding.GetProperty("observed").GetDouble(), finding.GetProperty("threshold").GetDouble()));
        Assert.Equal(("suspend", "taken", host.LeakSource, Tenant),
            (finding.GetProperty("action").GetString(), finding.GetProperty("actionState").GetString(),
             finding.GetProperty("details").GetProperty("source").GetString(), finding.GetProperty("tenant").GetString()));

        // One alert, at the webhook the test owns.
        const string Kind = FindingAlerts.KindPrefix + Detectors.NewSource;
        await webhook.ReceivedAsync(Kind).WaitAsync(TimeSpan.FromSeconds(30));
        var alert = Assert.Single(webhook.Posts);
        Assert.Equal((Kind, subject), (alert.GetProperty("kind").GetString(), alert.GetProperty("subject").GetString()));
        Assert.Contains(host.LeakSource, alert.GetProperty("text").GetString(), StringComparison.Ordinal);

        // The week built the key's baseline for the burst's hour: the same hour of each of the 7 days before.
        var hour = new DateTimeOffset(window.Start.Year, window.Start.Month, window.Start.Day, window.Start.Hour, 0, 0, TimeSpan.Zero);
        var baselines = await new BaselineStore(await host.TablesAsync()).ReadHourAsync(Baseline.HourOfWeekOf(hour));
        Assert.True(baselines.TryGetValue(subject, out var baseline), $"no baseline of {subject} for {hour:O}; {seeded} rows seeded");
        Assert.Equal((hour, BaselineMethod.HourOfDay, 7, new BaselineStat(12 * NormalCallsPerWindow(hour), 0)),
            (baseline.Hour, baseline.Method, baseline.Samples, baseline.Calls));

        // Suspended: the next call answers 401 in OpenAI's shape, from the leak and from the office alike.
        foreach (var client in new[] { leak, office })
        {
            var refused = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("hi")]));
            Assert.Equal(401, refused.Status);
            var error = JsonDocument.Parse(refused.GetRawResponse()!.Content.ToString()).RootElement.GetProperty("error");
            Assert.Equal("invalid_relay_key", error.GetProperty("code").GetString());
            Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
            Assert.Contains("suspended", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        // An admin resumes it: answered again.
        var (resumed, resumedBody) = await host.AdminAsync(HttpMethod.Post, $"relay-keys/{keyId}/resume");
        Assert.True(resumed == HttpStatusCode.OK, $"{resumed}: {resumedBody}");
        Assert.NotEmpty((await office.CompleteChatAsync([new UserChatMessage("hi")])).Value.Content);

        // The trail: the admin's creation and resume of the key, the sweep's suspension and alert.
        var (trailed, trail) = await host.AdminAsync(HttpMethod.Get, $"admin-events?from={Iso(week.Start)}&to={Iso(host.Now.AddMinutes(1))}");
        Assert.True(trailed == HttpStatusCode.OK, $"{trailed}: {trail}");
        var admin = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(host.AdminKey)))[..8];
        Assert.Equal(
            [
                $"POST findings/{{id}}/alert {id} 202 sweep",
                $"POST relay-keys {keyId} 201 {admin}",
                $"POST relay-keys/{{id}}/resume {keyId} 200 {admin}",
                $"POST relay-keys/{{id}}/suspend {keyId} 200 sweep",
            ],
            trail.GetProperty("items").EnumerateArray()
                .Where(e => e.GetProperty("target").GetString() is { } target && (target == keyId || target == id))
                .Select(e => $"{e.GetProperty("method").GetString()} {e.GetProperty("route").GetString()} {e.GetProperty("target").GetString()} {e.GetProperty("status").GetInt32()} {e.GetProperty("actor").GetString()}")
                .Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// The key's calls over the week from <paramref name="source"/>, as the relay writes them (<see cref="NormalCallsPerWindow"/>
    /// a window, within its first four minutes); stored a few partitions at a time. Returns how many.
    /// </summary>
    private static async Task<int> SeedWeekAsync(TableStore tables, LeakWeek week, string relayKeyId, string source)
    {
        var rows = new List<AuditRecord>();
        for (var start = week.Start; start < week.End; start += SweepWindow.Length)
            rows.AddRange(Times(NormalCallsPerWindow(start), i => Call(In(start, i), relayKeyId, tenant: Tenant, source: source)));
        var partitions = new List<(string Table, TableEntity[] Entities)>();
        foreach (var month in rows.GroupBy(r => TableNames.Audit(r.Time)))
            partitions.AddRange(month.Select(r => AuditEntity.ToEntity(r, shards: 16)).GroupBy(e => e.PartitionKey).Select(p => (month.Key, p.ToArray())));
        // Most partitions hold one row (a second and a shard): one write each, a few at once rather than thousands in a row.
        await Parallel.ForEachAsync(partitions, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (partition, cancellationToken) =>
        {
            var table = await tables.GetTableAsync(partition.Table, cancellationToken);
            await table.SubmitTransactionAsync(partition.Entities.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)), cancellationToken);
        });
        return rows.Count;
    }

    /// <summary>The official OpenAI SDK pointed at the relay, one attempt per call, its calls coming from <paramref name="source"/>.</summary>
    private static ChatClient Chat(ILeakHost host, string secret, string source) =>
        new("gpt-4o-mini", new ApiKeyCredential(secret), new OpenAIClientOptions
        {
            Endpoint = new Uri(host.RelayBase, "v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            Transport = new HttpClientPipelineTransport(new HttpClient(host.From(source))),
        });

    public static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.ToString("O", CultureInfo.InvariantCulture));
}
