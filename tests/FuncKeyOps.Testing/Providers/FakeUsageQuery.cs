using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// The parts the fakes' usage reports share: bucket widths with their page limits, list parameters written either as
/// <c>name=</c> (OpenAI) or <c>name[]=</c> (Anthropic), an opaque page token, and the grouping of billed entries.
/// </summary>
internal static class FakeUsageQuery
{
    /// <summary>A bucket width and its default and largest page size in buckets, as both providers document them.</summary>
    public static (TimeSpan Width, int DefaultLimit, int MaxLimit)? Width(string? text) => text switch
    {
        "1m" => (TimeSpan.FromMinutes(1), 60, 1440),
        "1h" => (TimeSpan.FromHours(1), 24, 168),
        "1d" or null or "" => (TimeSpan.FromDays(1), 7, 31),
        _ => null,
    };

    /// <summary>Every value of a list parameter, whether sent as <c>name</c> or <c>name[]</c>.</summary>
    public static IReadOnlyList<string> List(HttpRequest request, string name) =>
        [.. request.Query[name].Concat(request.Query[name + "[]"]).OfType<string>().Where(v => v.Length > 0)];

    /// <summary>The time snapped down to the width, in UTC.</summary>
    public static DateTimeOffset Snap(DateTimeOffset time, TimeSpan width)
    {
        var ticks = time.UtcTicks;
        return new DateTimeOffset(ticks - ticks % width.Ticks, TimeSpan.Zero);
    }

    public static string PageToken(DateTimeOffset nextBucket) =>
        "page_" + Convert.ToBase64String(Encoding.UTF8.GetBytes(nextBucket.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)));

    public static DateTimeOffset? ReadPageToken(string token)
    {
        if (!token.StartsWith("page_", StringComparison.Ordinal))
            return null;
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token["page_".Length..]));
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// The buckets of one page: from <paramref name="first"/> up to <paramref name="limit"/> buckets before
    /// <paramref name="end"/>, each with its entries grouped by the requested dimensions (a group's key is null where
    /// the dimension is not grouped by). Returns the start of the next page's first bucket, or null on the last page.
    /// </summary>
    public static (IReadOnlyList<Bucket> Buckets, DateTimeOffset? Next) Page(
        FakeBilling billing, string kind, DateTimeOffset first, DateTimeOffset end, TimeSpan width, int limit,
        bool byKey, bool byModel, IReadOnlyList<string> keyIds)
    {
        var buckets = new List<Bucket>();
        var start = first;
        for (; start < end && buckets.Count < limit; start += width)
        {
            var entries = billing.Reported(kind, start, start + width)
                .Where(e => keyIds.Count == 0 || (e.ApiKeyId is not null && keyIds.Contains(e.ApiKeyId)));
            var groups = entries
                .GroupBy(e => (Key: byKey ? e.ApiKeyId : null, Model: byModel ? e.Model : null))
                .Select(g => new Group(g.Key.Key, g.Key.Model, g.ToArray()))
                .OrderBy(g => g.ApiKeyId, StringComparer.Ordinal).ThenBy(g => g.Model, StringComparer.Ordinal)
                .ToArray();
            buckets.Add(new Bucket(start, start + width, groups));
        }

        return (buckets, start < end ? start : null);
    }

    public sealed record Bucket(DateTimeOffset Start, DateTimeOffset End, IReadOnlyList<Group> Groups);

    public sealed record Group(string? ApiKeyId, string? Model, IReadOnlyList<FakeBilledUsage> Entries)
    {
        public long Requests => Entries.Sum(e => e.Requests);
        public long InputTokens => Entries.Sum(e => e.InputTokens);
        public long OutputTokens => Entries.Sum(e => e.OutputTokens);
        public long CacheReadInputTokens => Entries.Sum(e => e.CacheReadInputTokens);
        public long CacheCreation5mInputTokens => Entries.Sum(e => e.CacheCreation5mInputTokens);
        public long CacheCreation1hInputTokens => Entries.Sum(e => e.CacheCreation1hInputTokens);
        public long UncachedInputTokens => Entries.Sum(e => e.UncachedInputTokens);
    }
}
