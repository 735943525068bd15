using System.Globalization;
using FuncKeyOps.Audit;

namespace FuncKeyOps.Bench.SweepBench;

/// <summary>
/// The benches' traffic: calls spread evenly over time at a fixed rate, each relay key and source in turn, every one a
/// 200 on one provider key version with the same tokens and cost, so any span's counts are known without reading it.
/// </summary>
internal static class Traffic
{
    /// <summary>The <paramref name="index"/>th of <paramref name="count"/> calls spread evenly over <paramref name="span"/> from <paramref name="start"/>.</summary>
    public static AuditRecord Call(DateTimeOffset start, TimeSpan span, long count, long index, int keys, int sources)
    {
        var time = start.AddTicks((long)(index * (double)span.Ticks / count));
        return new AuditRecord
        {
            RequestId = Guid.CreateVersion7(time).ToString("N"),
            Time = time,
            Tenant = "tenant-" + (index % keys % 20).ToString(CultureInfo.InvariantCulture),
            RelayKeyId = RelayKey(index % keys),
            Provider = "openai",
            ProviderKeyName = "openai-main",
            ProviderKeyVersion = "v1",
            Model = "gpt-4o-mini",
            Method = "POST",
            Path = "/v1/chat/completions",
            Status = 200,
            LatencyMs = 120,
            InputTokens = 200,
            OutputTokens = 50,
            CostEstimateUsd = 0.0001m,
            SourceIp = "198.51.100." + (index % sources).ToString(CultureInfo.InvariantCulture),
            RequestBytes = 400,
        };
    }

    public static string RelayKey(long key) => "rk-" + key.ToString("D4", CultureInfo.InvariantCulture);
}
