using System.Globalization;
using System.Text;
using System.Text.Json;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Secrets;

namespace FuncKeyOps.Anomalies.ShadowUsage;

/// <summary>
/// Anthropic's messages usage report, per API key and hour. What it relies on (API reference, Nov 2026):
/// <list type="bullet">
/// <item><c>GET /v1/organizations/usage_report/messages</c> with <c>x-api-key</c> the organization admin key (the
/// <c>anthropic</c> connector's <c>adminKeySecret</c>, on its admin host) and <c>anthropic-version: 2023-06-01</c>.</item>
/// <item><c>starting_at</c> and <c>ending_at</c> in RFC 3339, <c>bucket_width=1h</c>, <c>group_by[]=api_key_id</c>,
/// <c>api_key_ids[]=</c> once per key, <c>limit</c> up to 168 hourly buckets a page, <c>page</c> the answer's <c>next_page</c>
/// while <c>has_more</c>.</item>
/// <item>Buckets <c>{starting_at, ending_at, results}</c>; a result carries <c>api_key_id</c> (null for Console use, skipped),
/// <c>uncached_input_tokens</c>, <c>cache_read_input_tokens</c>, <c>cache_creation</c> (<c>ephemeral_5m_input_tokens</c>,
/// <c>ephemeral_1h_input_tokens</c>) and <c>output_tokens</c>. Input is all three input parts, as the relay's audit counts
/// the input an answer reports; there is no request count, so Anthropic keys are judged on tokens alone.</item>
/// </list>
/// Anthropic marks this endpoint legacy in favour of <c>GET /v1/organizations/analytics/usage</c> (the Usage and Cost
/// Analytics API), which has a request count. That one is still a beta behind a dated <c>anthropic-beta</c> header whose
/// shape may change without notice; a check whose finding can rotate a production key away reads the generally available
/// report, which gives every number the judgement needs per key and hour. Move when the analytics API leaves beta.
/// </summary>
internal sealed class AnthropicUsageReport(IHttpClientFactory clients, ISecretStore secrets) : IProviderUsageReport
{
    public const string HttpClientName = "FuncKeyOps.ShadowUsage.Anthropic";

    private const string Provider = "Anthropic";
    private const int HoursPerPage = 168;

    public string Connector => AnthropicKeyConnector.ConnectorName;

    /// <summary>The tag is the key's own id (<c>apikey_...</c>), as the report names it.</summary>
    public string? UsageKeyId(string providerKeyId) => providerKeyId.Length > 0 && !providerKeyId.Contains('/', StringComparison.Ordinal) ? providerKeyId : null;

    public async Task<ProviderUsageAnswer> ReadAsync(ProviderKeyConfig key, IReadOnlyCollection<string> usageKeyIds, DateTimeOffset from, DateTimeOffset to,
        CancellationToken cancellationToken)
    {
        var (access, failure) = await AdminAccess.ReadAsync(key, secrets, Provider, cancellationToken).ConfigureAwait(false);
        if (access is null)
            return ProviderUsageAnswer.Failed(failure!.Detail);

        var client = clients.CreateClient(HttpClientName);
        var usage = new Dictionary<(string, DateTimeOffset), ProviderHourUsage>();
        // A page holds up to a week of hours; the cap only stops a report that keeps answering has_more.
        var maxPages = (int)Math.Ceiling((to - from).TotalHours / HoursPerPage) + 2;
        string? page = null;
        for (var read = 0; ; read++)
        {
            if (read == maxPages)
                return ProviderUsageAnswer.Failed($"The {Provider} usage report kept answering has_more past {maxPages} pages; not read further.");
            using var request = new HttpRequestMessage(HttpMethod.Get, access.Resolve(Query(usageKeyIds, from, to, page)));
            request.Headers.Add("x-api-key", access.AdminKey);
            request.Headers.Add("anthropic-version", AnthropicKeyConnector.ApiVersion);
            var answer = await AdminApiCall.SendAsync(client, request, Provider, "read the messages usage report", cancellationToken).ConfigureAwait(false);
            if (answer.Failure is not null)
                return ProviderUsageAnswer.Failed(answer.Failure.Detail);
            if (!answer.Body.TryGetProperty("data", out var buckets) || buckets.ValueKind != JsonValueKind.Array)
                return ProviderUsageAnswer.Failed($"The {Provider} usage report answered without a data array.");

            foreach (var bucket in buckets.EnumerateArray())
                Add(usage, bucket);

            if (!(answer.Body.TryGetProperty("has_more", out var more) && more.ValueKind == JsonValueKind.True))
                return new ProviderUsageAnswer(usage, null);
            if (answer.Body.String("next_page") is not { Length: > 0 } next)
                return ProviderUsageAnswer.Failed($"The {Provider} usage report said has_more without a next_page.");
            page = next;
        }
    }

    private static void Add(Dictionary<(string, DateTimeOffset), ProviderHourUsage> usage, JsonElement bucket)
    {
        if (bucket.String("starting_at") is not { } startText || !DateTimeOffset.TryParse(startText, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var start)
            || !bucket.TryGetProperty("results", out var results) || results.ValueKind != JsonValueKind.Array)
            return;
        var hour = UsageHours.Floor(start);
        foreach (var result in results.EnumerateArray())
        {
            // Console (Workbench) use has no key: it never went through a key of ours.
            if (result.String("api_key_id") is not { Length: > 0 } keyId)
                continue;
            var input = result.Count("uncached_input_tokens") + result.Count("cache_read_input_tokens") + CacheCreation(result);
            var line = new ProviderHourUsage(null, input, result.Count("output_tokens"));
            usage[(keyId, hour)] = usage.TryGetValue((keyId, hour), out var earlier) ? earlier.Add(line) : line;
        }
    }

    // Every cache-write part the report lists (5-minute and 1-hour today), so a new cache lifetime is counted too.
    private static long CacheCreation(JsonElement result)
    {
        if (!result.TryGetProperty("cache_creation", out var creation) || creation.ValueKind != JsonValueKind.Object)
            return 0;
        long total = 0;
        foreach (var part in creation.EnumerateObject())
        {
            if (part.Value.ValueKind == JsonValueKind.Number && part.Value.TryGetInt64(out var tokens))
                total += tokens;
        }
        return total;
    }

    private static string Query(IReadOnlyCollection<string> keyIds, DateTimeOffset from, DateTimeOffset to, string? page)
    {
        var query = new StringBuilder("v1/organizations/usage_report/messages")
            .Append("?starting_at=").Append(Uri.EscapeDataString(UsageHours.Format(from)))
            .Append("&ending_at=").Append(Uri.EscapeDataString(UsageHours.Format(to)))
            .Append(CultureInfo.InvariantCulture, $"&bucket_width=1h&group_by[]=api_key_id&limit={HoursPerPage}");
        foreach (var keyId in keyIds)
            query.Append("&api_key_ids[]=").Append(Uri.EscapeDataString(keyId));
        if (page is not null)
            query.Append("&page=").Append(Uri.EscapeDataString(page));
        return query.ToString();
    }
}
