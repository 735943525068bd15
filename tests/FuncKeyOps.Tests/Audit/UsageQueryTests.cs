using System.Collections.Concurrent;
using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using FuncKeyOps.Audit;
using FuncKeyOps.Tests.Storage;

namespace FuncKeyOps.Tests.Audit;

/// <summary>
/// <see cref="UsageQuery"/> over thousands of rows in Azurite, watched on the wire: it reads pages of the counted
/// columns of the asked key's rows only, a bounded number at a time, and sums them as they come.
/// </summary>
public sealed class UsageQueryTests(UsageQueryTests.Rows stored) : IClassFixture<UsageQueryTests.Rows>, IAsyncLifetime
{
    // Six instants over three hours across the turn of a month: four hourly slices in two monthly tables.
    private static readonly DateTimeOffset First = new(2026, 1, 31, 22, 30, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset From = new(2026, 1, 31, 22, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset To = new(2026, 2, 1, 2, 0, 0, TimeSpan.Zero);
    private const int RowCount = 5000;

    private readonly List<AuditRecord> _rows = stored.Records;
    private readonly QueryPages _pages = new();
    private UsageQuery _query = null!;

    // The stored rows, read through a client of this test's own whose requests it sees.
    public async Task InitializeAsync() =>
        _query = new UsageQuery(await TestTables.CreateAsync(prefix: stored.Audit.Tables.PhysicalName(""), policy: _pages));

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>The rows, written once for the class: the tests only read them.</summary>
    public sealed class Rows : IAsyncLifetime
    {
        public List<AuditRecord> Records { get; } = [.. Enumerable.Range(0, RowCount).Select(Row)];
        internal AuditHarness Audit { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Audit = await AuditHarness.CreateAsync();
            await Audit.StartAsync();
            foreach (var row in Records)
                Audit.Writer.Enqueue(row);
            await Audit.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout);
        }

        public async Task DisposeAsync() => await Audit.DisposeAsync();
    }

    [Fact]
    public async Task Thousands_of_rows_of_one_key_are_summed_from_pages_of_its_rows_and_the_counted_columns_only()
    {
        var report = await _query.SummarizeAsync(From, To, "pk-a", UsageGroupBy.Model);

        var mine = _rows.Where(r => r.ProviderKeyName == "pk-a").ToList();
        Assert.Equal(Expected(mine), Totals(report.Totals));
        Assert.Equal(
            mine.GroupBy(r => r.ProviderKeyVersion).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => ("pk-a", g.Key, Expected(g))),
            report.Versions.Select(v => (v.ProviderKey, v.Version, Totals(v))));
        Assert.Equal(
            mine.GroupBy(r => r.Model).Select(g => (g.Key, Expected(g))).OrderByDescending(g => g.Item2.Input + g.Item2.Output).ThenByDescending(g => g.Item2.Calls),
            report.Groups.Select(g => (g.Key, Totals(g))));
        Assert.Contains(report.Groups, g => g.Key is null); // rows without a model are a group of their own

        // On the wire: pages of at most 1,000 rows, the other key's rows filtered out by the service, never all at once.
        Assert.Equal(mine.Count, _pages.Rows.Sum());
        Assert.True(_pages.Rows.Count >= mine.Count / 1000, $"{_pages.Rows.Count} pages");
        Assert.All(_pages.Rows, rows => Assert.InRange(rows, 0, 1000));
        Assert.All(_pages.Queries, q => Assert.Contains("ProviderKeyName eq 'pk-a'", q, StringComparison.Ordinal));
        Assert.All(_pages.Queries, q => Assert.Contains("$select=" + string.Join(",", UsageTally.Columns), q, StringComparison.Ordinal));
        Assert.InRange(_pages.MostAtOnce, 1, UsageQuery.MaxParallelReads);
    }

    [Fact]
    public async Task Every_key_grouped_by_relay_key_leaves_out_rows_that_name_no_provider_key()
    {
        var report = await _query.SummarizeAsync(From, To, providerKey: null, UsageGroupBy.RelayKey);

        var keyed = _rows.Where(r => r.ProviderKeyName is not null).ToList();
        Assert.True(keyed.Count < RowCount);
        Assert.Equal(Expected(keyed), Totals(report.Totals));
        Assert.Equal(
            keyed.GroupBy(r => (r.ProviderKeyName, r.ProviderKeyVersion)).OrderBy(g => g.Key.ProviderKeyName, StringComparer.Ordinal)
                .ThenBy(g => g.Key.ProviderKeyVersion, StringComparer.Ordinal).Select(g => (g.Key.ProviderKeyName!, g.Key.ProviderKeyVersion, Expected(g))),
            report.Versions.Select(v => (v.ProviderKey, v.Version, Totals(v))));
        Assert.Equal(
            keyed.GroupBy(r => r.RelayKeyId).Select(g => (g.Key, Expected(g))).OrderByDescending(g => g.Item2.Input + g.Item2.Output).ThenByDescending(g => g.Item2.Calls),
            report.Groups.Select(g => (g.Key, Totals(g))));
    }

    [Fact]
    public async Task A_window_that_only_partly_covers_the_rows_counts_only_those_inside_it()
    {
        // The first two instants (22:30 and 23:07): from is inclusive, to exclusive.
        var to = First.AddMinutes(37);
        var report = await _query.SummarizeAsync(From, to, "pk-b", UsageGroupBy.ProviderKey);
        Assert.Equal(Expected(_rows.Where(r => r.ProviderKeyName == "pk-b" && r.Time < to)), Totals(report.Totals));
        Assert.Equal(("pk-b", Expected(_rows.Where(r => r.ProviderKeyName == "pk-b" && r.Time < to))), (Assert.Single(report.Groups).Key, Totals(report.Groups[0])));
    }

    /// <summary>The rules the report is held to, written out plainly over the records themselves.</summary>
    private static (long Calls, long Errors, long Input, long Output) Expected(IEnumerable<AuditRecord> rows)
    {
        var list = rows.ToList();
        var answered = list.Where(r => r.Attempt != 1).ToList();
        return (list.Count, list.Count(r => r.Status >= 400 || r.ErrorCode is not null),
            answered.Sum(r => r.InputTokens ?? 0), answered.Sum(r => r.OutputTokens ?? 0));
    }

    private static (long Calls, long Errors, long Input, long Output) Totals(UsageTotals totals)
    {
        Assert.Equal(totals.InputTokens + totals.OutputTokens, totals.TotalTokens);
        return (totals.Calls, totals.Errors, totals.InputTokens, totals.OutputTokens);
    }

    private static AuditRecord Row(int i) => AuditRecords.Minimal($"usage-{i:D5}", First.AddMinutes(37 * (i % 6))) with
    {
        Provider = "openai",
        // Every 19th was refused before a key was chosen (a bad relay key, a quota): no provider key, not usage.
        ProviderKeyName = i % 19 == 0 ? null : i % 3 == 0 ? "pk-b" : "pk-a",
        ProviderKeyVersion = i % 2 == 0 ? "v1" : "v2",
        RelayKeyId = "rk-" + (i % 7),
        Model = i % 5 == 0 ? null : "m-" + (i % 4),
        Status = i % 11 == 0 ? 500 : 200,
        ErrorCode = i % 13 == 0 ? "upstream_stream_broken" : null,
        // A failed first attempt carrying tokens all the same: they must not count.
        Attempt = i % 17 == 0 ? 1 : i % 17 == 1 ? 2 : null,
        InputTokens = i % 23 == 0 ? null : i % 100,
        OutputTokens = i % 10,
    };

    /// <summary>Each table query's request and how many rows its page brought; how many were under way at once.</summary>
    private sealed class QueryPages : HttpPipelinePolicy
    {
        private readonly ConcurrentQueue<string> _queries = new();
        private readonly ConcurrentQueue<int> _rows = new();
        private int _now;
        private int _most;

        public IReadOnlyCollection<string> Queries => _queries;
        public IReadOnlyCollection<int> Rows => _rows;
        public int MostAtOnce => Volatile.Read(ref _most);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The query reads asynchronously.");

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            // The audit tables' queries only: the rollup markers are read first, and none exist here.
            if (message.Request.Method != RequestMethod.Get || !message.Request.Uri.Path.Contains("audit", StringComparison.Ordinal))
            {
                await ProcessNextAsync(message, pipeline);
                return;
            }
            _queries.Enqueue(Uri.UnescapeDataString(message.Request.Uri.Query));
            var now = Interlocked.Increment(ref _now);
            int most;
            while (now > (most = Volatile.Read(ref _most)) && Interlocked.CompareExchange(ref _most, now, most) != most)
            {
            }
            try
            {
                await ProcessNextAsync(message, pipeline);
            }
            finally
            {
                Interlocked.Decrement(ref _now);
            }
            if (message.Response.Status == 200 && message.Response.Content is { } content)
            {
                using var page = JsonDocument.Parse(content.ToMemory());
                _rows.Enqueue(page.RootElement.GetProperty("value").GetArrayLength());
            }
        }
    }
}
