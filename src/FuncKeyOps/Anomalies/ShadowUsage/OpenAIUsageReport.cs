using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Secrets;

namespace FuncKeyOps.Anomalies.ShadowUsage;

/// <summary>
/// OpenAI's organization usage API, per API key and hour. What it relies on (API reference, Nov 2026):
/// <list type="bullet">
/// <item><c>GET /v1/organization/usage/completions</c> and <c>/v1/organization/usage/embeddings</c>, <c>Authorization: Bearer</c>
/// with the organization admin key (the <c>openai</c> connector's <c>adminKeySecret</c>, on its admin host).</item>
/// <item><c>start_time</c> (inclusive) and <c>end_time</c> (exclusive) in Unix seconds, <c>bucket_width=1h</c>,
/// <c>group_by=api_key_id</c>, <c>api_key_ids=</c> once per key, <c>limit</c> up to 168 hourly buckets a page, <c>page</c> the
/// answer's <c>next_page</c> while <c>has_more</c>.</item>
/// <item>The answer's <c>data</c> holds buckets <c>{start_time, end_time, results}</c>; a result carries <c>api_key_id</c>,
/// <c>num_model_requests</c>, <c>input_tokens</c> (cached input included) and, for completions, <c>output_tokens</c>.</item>
/// </list>
/// Chat completions and responses are reported as completions, embeddings apart: the two are summed per key and hour,
/// as the relay's audit counts both.
/// </summary>
internal sealed class OpenAIUsageReport(IHttpClientFactory clients, ISecretStore secrets) : IProviderUsageReport
{
    public const string HttpClientName = "FuncKeyOps.ShadowUsage.OpenAI";

    private const string Provider = "OpenAI";
    private const int HoursPerPage = 168;
    private static readonly string[] Reports = ["completions", "embeddings"];

    public string Connector => OpenAIKeyConnector.ConnectorName;

    /// <summary>The connector records <c>{serviceAccountId}/{keyId}</c> for a key it made with its own account; the report knows the key id.</summary>
    public string? UsageKeyId(string providerKeyId) =>
        providerKeyId.Split('/') is [.., { Length: > 0 } keyId] ? keyId : null;

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
        foreach (var report in Reports)
        {
            string? page = null;
            for (var read = 0; ; read++)
            {
                if (read == maxPages)
                    return ProviderUsageAnswer.Failed($"The {Provider} {report} usage report kept answering has_more past {maxPages} pages; not read further.");
                using var request = new HttpRequestMessage(HttpMethod.Get, access.Resolve(Query(report, usageKeyIds, from, to, page)));
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", access.AdminKey);
                var answer = await AdminApiCall.SendAsync(client, request, Provider, $"read the {report} usage report", cancellationToken).ConfigureAwait(false);
                if (answer.Failure is not null)
                    return ProviderUsageAnswer.Failed(answer.Failure.Detail);
                if (!answer.Body.TryGetProperty("data", out var buckets) || buckets.ValueKind != JsonValueKind.Array)
                    return ProviderUsageAnswer.Failed($"The {Provider} {report} usage report answered without a data array.");

                foreach (var bucket in buckets.EnumerateArray())
                    Add(usage, bucket);

                if (!(answer.Body.TryGetProperty("has_more", out var more) && more.ValueKind == JsonValueKind.True))
                    break;
                if (answer.Body.String("next_page") is not { Length: > 0 } next)
                    return ProviderUsageAnswer.Failed($"The {Provider} {report} usage report said has_more without a next_page.");
                page = next;
            }
        }

        return new ProviderUsageAnswer(usage, null);
    }

    private static void Add(Dictionary<(string, DateTimeOffset), ProviderHourUsage> usage, JsonElement bucket)
    {
        if (bucket.ValueKind != JsonValueKind.Object || !bucket.TryGetProperty("start_time", out var start) || !start.TryGetInt64(out var seconds)
            || !bucket.TryGetProperty("results", out var results) || results.ValueKind != JsonValueKind.Array)
            return;
        var hour = UsageHours.Floor(DateTimeOffset.FromUnixTimeSeconds(seconds));
        foreach (var result in results.EnumerateArray())
        {
            // Grouped by key, a result without one is usage no key of ours made (e.g. the playground).
            if (result.String("api_key_id") is not { Length: > 0 } keyId)
                continue;
            var line = new ProviderHourUsage(result.Count("num_model_requests"), result.Count("input_tokens"), result.Count("output_tokens"));
            usage[(keyId, hour)] = usage.TryGetValue((keyId, hour), out var earlier) ? earlier.Add(line) : line;
        }
    }

    private static string Query(string report, IReadOnlyCollection<string> keyIds, DateTimeOffset from, DateTimeOffset to, string? page)
    {
        var query = new StringBuilder("v1/organization/usage/").Append(report)
            .Append(CultureInfo.InvariantCulture, $"?start_time={from.ToUnixTimeSeconds()}&end_time={to.ToUnixTimeSeconds()}")
            .Append(CultureInfo.InvariantCulture, $"&bucket_width=1h&group_by=api_key_id&limit={HoursPerPage}");
        foreach (var keyId in keyIds)
            query.Append("&api_key_ids=").Append(Uri.EscapeDataString(keyId));
        if (page is not null)
            query.Append("&page=").Append(Uri.EscapeDataString(page));
        return query.ToString();
    }
}
