// The sweep benchmark (bench/sweep/run.sh): seeds one 5-minute window of audit rows into Table Storage (Azurite), then
// times the sweep's one pass over it (AuditPass streaming the projected rows into the WindowTally every detector and
// the rollup read) against a plain read of the same rows read the same way (the same slices, parallelism, SDK, filters
// and projection): the floor. Rounds
// alternate floor and sweep so both see the same Azurite; the fastest of each counts.
//   SweepBench --storage <connection string> [--rows 300000] [--keys 2000] [--sources 50] [--rounds 2]
//   SweepBench --storage <connection string> --mode usage [--keys 2000] [--sources 50] [--rate 1000] [--edge 60] [--repeats 2]
//     GET usage over 31 days of this traffic (UsageBench.cs).
using System.Diagnostics;
using System.Globalization;
using Azure.Data.Tables;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Sweep;
using FuncKeyOps.Audit;
using FuncKeyOps.Hosting;
using FuncKeyOps.Storage;
using FuncKeyOps.Bench.SweepBench;
using Microsoft.Extensions.Options;

var options = ParseArgs(args);
var connection = options.GetValueOrDefault("storage") ?? throw new ArgumentException("--storage <connection string> is required");
var rows = int.Parse(options.GetValueOrDefault("rows") ?? "300000", CultureInfo.InvariantCulture);
var keys = int.Parse(options.GetValueOrDefault("keys") ?? "2000", CultureInfo.InvariantCulture);
var sources = int.Parse(options.GetValueOrDefault("sources") ?? "50", CultureInfo.InvariantCulture);
var rounds = int.Parse(options.GetValueOrDefault("rounds") ?? "2", CultureInfo.InvariantCulture);

var storage = new StorageOptions { ConnectionString = connection, TablePrefix = "bench" + Guid.NewGuid().ToString("N")[..8] };
var tables = new TableStore(AzureClientFactory.CreateTableService(storage, () => throw new InvalidOperationException("no credential")), Options.Create(storage));
if (options.GetValueOrDefault("mode") == "usage")
{
    return await UsageBench.RunAsync(tables, keys, sources,
        perSecond: int.Parse(options.GetValueOrDefault("rate") ?? "1000", CultureInfo.InvariantCulture),
        edgeSeconds: int.Parse(options.GetValueOrDefault("edge") ?? "60", CultureInfo.InvariantCulture),
        repeats: int.Parse(options.GetValueOrDefault("repeats") ?? "2", CultureInfo.InvariantCulture));
}

// A window an hour back, so it is closed by any clock.
var window = SweepWindow.Containing(DateTimeOffset.UtcNow.AddHours(-1));

var seeded = await SeedAsync(tables, window, rows, keys, sources);
Console.WriteLine(FormattableString.Invariant($"seeded rows={rows} keys={keys} sources={sources} window={window.Id} seconds={seeded.TotalSeconds:F1} rows_per_s={rows / seeded.TotalSeconds:F0}"));

Console.WriteLine(FormattableString.Invariant(
    $"floor: the window's rows read exactly as the sweep reads them (slices of whole seconds, {AuditSliceReader.Parallelism} at once, one merged stream; same SDK, filters and projection), counted and dropped"));
var floors = new List<Pass>();
var sweeps = new List<Pass>();
for (var round = 0; round < rounds; round++)
{
    floors.Add(await MeasureAsync(() => PlainReadAsync(tables, window)));
    sweeps.Add(await MeasureAsync(() => SweepAsync(tables, window)));
    Console.WriteLine(FormattableString.Invariant(
        $"round={round + 1} floor_s={floors[^1].Seconds:F2} floor_rows={floors[^1].Rows} sweep_s={sweeps[^1].Seconds:F2} sweep_rows={sweeps[^1].Rows} sweep_peak_mb={sweeps[^1].PeakBytes / 1048576.0:F1} floor_peak_mb={floors[^1].PeakBytes / 1048576.0:F1}"));
}
var floor = floors.MinBy(p => p.Seconds)!;
var sweep = sweeps.MinBy(p => p.Seconds)!;
if (sweep.Rows != rows || floor.Rows != rows)
    Console.WriteLine($"WARNING: read {sweep.Rows} (sweep) and {floor.Rows} (floor) rows of {rows} seeded");
Console.WriteLine(FormattableString.Invariant($"RESULT rows={rows} sweep_s={sweep.Seconds:F2} rows_per_s={sweep.Rows / sweep.Seconds:F0} floor_s={floor.Seconds:F2} floor_rows_per_s={floor.Rows / floor.Seconds:F0} ratio={sweep.Seconds / floor.Seconds:F2} peak_managed_mb={sweep.PeakBytes / 1048576.0:F1} floor_peak_managed_mb={floor.PeakBytes / 1048576.0:F1}"));
Console.WriteLine(FormattableString.Invariant(
    $"targets (reported, not asserted): sweep under 30 s: {(sweep.Seconds < 30 ? "met" : "MISSED")}; within 1.5x of the floor: {(sweep.Seconds <= 1.5 * floor.Seconds ? "met" : "MISSED")}; peak managed memory under 256 MB: {(sweep.PeakBytes < 256L << 20 ? "met" : "MISSED")}"));
return 0;

// Rows spread evenly over the window (1,000/s at the defaults), each relay key and source in turn; written as the audit
// writer writes them (AuditEntity, 16 shards), 100 to a transaction per partition, many transactions at once.
static async Task<TimeSpan> SeedAsync(TableStore tables, SweepWindow window, int rows, int keys, int sources)
{
    var started = Stopwatch.GetTimestamp();
    var table = await tables.GetTableAsync(TableNames.Audit(window.Start));
    var batches = Enumerable.Range(0, rows)
        .Select(i => AuditEntity.ToEntity(Traffic.Call(window.Start, SweepWindow.Length, rows, i, keys, sources), shards: 16))
        .GroupBy(e => e.PartitionKey, StringComparer.Ordinal)
        .SelectMany(p => p.Chunk(100))
        .ToList();
    await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (batch, token) =>
        await table.SubmitTransactionAsync(batch.Select(e => new TableTransactionAction(TableTransactionActionType.Add, e)), token));
    return Stopwatch.GetElapsedTime(started);
}

// The floor: the same rows read the same way (AuditPass's slices of the window's seconds, a few at once, merged into one
// stream; the same SDK, filters and projection), counted and dropped: all the sweep adds is SweepRow and the tally.
static async Task<long> PlainReadAsync(TableStore tables, SweepWindow window)
{
    long count = 0;
    await foreach (var _ in new AuditPass(tables).EntitiesAsync(window, CancellationToken.None))
        count++;
    return count;
}

// The sweep's pass: every row projected (SweepRow) and tallied per relay key, source and provider key version, with
// the window's rollup, as SweepRunner does before its detectors read the tally.
static async Task<long> SweepAsync(TableStore tables, SweepWindow window)
{
    var tally = new WindowTally(window);
    long count = 0;
    await foreach (var row in new AuditPass(tables).ReadAsync(window, CancellationToken.None))
    {
        tally.Add(row);
        count++;
    }
    GC.KeepAlive(tally);
    return count;
}

// Peak managed heap while the pass runs, sampled every 5 ms from a clean start (a full collection first).
static async Task<Pass> MeasureAsync(Func<Task<long>> pass)
{
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    GC.WaitForPendingFinalizers();
    long peak = GC.GetTotalMemory(forceFullCollection: false);
    using var stop = new CancellationTokenSource();
    var sampler = Task.Run(async () =>
    {
        while (!stop.IsCancellationRequested)
        {
            var now = GC.GetTotalMemory(forceFullCollection: false);
            if (now > Interlocked.Read(ref peak))
                Interlocked.Exchange(ref peak, now);
            try { await Task.Delay(5, stop.Token); } catch (OperationCanceledException) { }
        }
    });
    var started = Stopwatch.GetTimestamp();
    var count = await pass();
    var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
    await stop.CancelAsync();
    await sampler;
    return new Pass(seconds, count, Interlocked.Read(ref peak));
}

static Dictionary<string, string> ParseArgs(string[] args)
{
    var parsed = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i + 1 < args.Length; i += 2)
        parsed[args[i].TrimStart('-')] = args[i + 1];
    return parsed;
}

internal sealed record Pass(double Seconds, long Rows, long PeakBytes);
