using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using FuncKeyOps.Testing.Providers;

namespace FuncKeyOps.Testing.Drills;

/// <summary>
/// <c>./build.sh leak-drill</c>: the shadow-usage leak drill against a running <c>./build.sh dev</c>. It plays the
/// attacker who copied <c>openai-dev</c>'s active value out of the vault: reads it from dev's local vault and sends calls
/// with it straight to the fake OpenAI, past the relay. The fake bills them under the key's <c>providerKeyId</c> and its
/// organization usage API reports them (the drill shows so, with the admin key dev keeps in the vault), which is what the
/// sweep sets against the relay's own audit once the hour has settled. With <c>--wait</c> it then sweeps until the
/// <c>shadow_usage</c> finding appears and follows the emergency rotation it started to its end.
/// </summary>
/// <remarks>
/// Settings come from the environment <c>build.sh</c> reads from dev's <c>dev-parts.env</c> and <c>dev-host.env</c>: the
/// vault's URI and certificate thumbprint, the admin key, the host's port, its <c>Anomalies:UsageSettle</c> (and the
/// function key under <c>dev --functions</c>); the fake's URL and the admin key's secret come from the key's registration. The leaked value is only ever held in memory: never printed, never on a command line.
/// </remarks>
public static class DevLeakDrill
{
    public const string KeyName = "openai-dev";

    // Caps on what a broken dev can cost: how long --wait sweeps past the settle time, and how long a rotation may run.
    private static readonly TimeSpan FindingPatience = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan RotationPatience = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        if (!TryParse(args, out var calls, out var wait))
        {
            Console.Error.WriteLine("usage: FuncKeyOps.Testing leak-drill [--calls N] [--wait]");
            return 2;
        }

        var env = DevEnvironment.Read();
        if (env is null)
        {
            Console.Error.WriteLine("leak-drill: FKO_DEV_PORT, FKO_ADMIN_KEY, FKO_VAULT_URI and FKO_VAULT_THUMBPRINT must be set (./build.sh leak-drill sets them from a running ./build.sh dev).");
            return 2;
        }

        using var admin = env.AdminClient();
        using var vault = env.VaultClient();
        var key = await GetJsonAsync(admin, $"provider-keys/{KeyName}");
        // Where the key's calls and its connector's admin calls go, and the admin key's secret: what the sweep reads too.
        var baseUrl = new Uri(key["key"]!["baseUrl"]!.GetValue<string>());
        var adminKeySecret = key["key"]!["connectorSettings"]?["adminKeySecret"]?.GetValue<string>()
            ?? throw new InvalidOperationException($"{KeyName}'s connector names no adminKeySecret: shadow usage could not read its usage report.");
        using var direct = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };

        var version = key["versions"]!.AsArray().Single(v => v!["state"]?.GetValue<string>() == "active")!["version"]!.GetValue<string>();
        var secret = await GetJsonAsync(vault, $"secrets/{KeyName}/{version}?api-version=7.6");
        var leaked = secret["value"]!.GetValue<string>();
        var providerKeyId = secret["tags"]?["providerKeyId"]?.GetValue<string>()
            ?? throw new InvalidOperationException($"Version {version} of {KeyName} has no providerKeyId tag: shadow usage could not name it.");
        Console.WriteLine($"Leaked: version {version} of {KeyName} (OpenAI key id {providerKeyId}), read from the dev vault.");

        var firstHour = Hour(DateTimeOffset.UtcNow);
        var answered = 0;
        for (var i = 0; i < calls; i++)
        {
            using var response = await SendDirectAsync(direct, leaked);
            if (response.StatusCode == HttpStatusCode.OK)
                answered++;
        }
        Console.WriteLine($"Sent {calls} chat completions straight to the fake OpenAI at {baseUrl}, past the relay: {answered} of {calls} answered 200.");

        // The calls may have run into the next hour: the report is read over every hour they were sent in.
        var lastHour = Hour(DateTimeOffset.UtcNow);
        var hours = lastHour == firstHour ? $"the hour from {Format(firstHour)}" : $"the hours from {Format(firstHour)} to {Format(lastHour.AddHours(1))}";
        var adminKey = (await GetJsonAsync(vault, $"secrets/{adminKeySecret}?api-version=7.6"))["value"]!.GetValue<string>();
        var reported = await ReportedRequestsAsync(direct, adminKey, providerKeyId, firstHour, lastHour.AddHours(1));
        Console.WriteLine($"The fake OpenAI's usage report (read with the admin key in {adminKeySecret}) shows {reported} requests on key {providerKeyId} in {hours}.");

        var settle = env.UsageSettle;
        var due = lastHour.AddHours(1) + settle;
        var subject = $"provider-key:{KeyName}/{version}";
        Console.WriteLine($"Shadow usage judges whole hours once settled (Anomalies:UsageSettle {settle}): the first sweep after {Format(due)} finds it (subject {subject}).");
        if (!wait)
        {
            Console.WriteLine("Then: POST sweeps/run, GET findings?detector=shadow_usage (or run again with --wait to have this drill do it).");
            return answered == calls ? 0 : 1;
        }

        var finding = await WaitForFindingAsync(admin, subject, firstHour, due);
        if (finding is null)
        {
            Console.Error.WriteLine($"No shadow_usage finding on {subject} by {Format(due + FindingPatience)}.");
            return 1;
        }
        Console.WriteLine($"Finding {finding["id"]}: {finding["severity"]}, {finding["summary"]}");
        Console.WriteLine($"Action: {finding["action"]}, {finding["actionState"]}: {finding["actionOutcome"]}");

        // "Emergency rotation {id} of provider key {name} started." (the responder's outcome line).
        var outcome = finding["actionOutcome"]?.GetValue<string>() ?? "";
        var words = outcome.Split(' ');
        if (words is not ["Emergency", "rotation", var rotationId, ..])
        {
            Console.Error.WriteLine("The finding started no rotation (Anomalies:Mode observe, or Anomalies:Actions:ShadowUsage never?).");
            return 1;
        }

        var rotation = await WaitForRotationAsync(admin, rotationId);
        Console.WriteLine($"Rotation {rotationId}: {rotation["strategy"]}, trigger {rotation["trigger"]}, {rotation["status"]}; version {rotation["oldVersion"]} -> {rotation["newVersion"]}.");
        using var after = await SendDirectAsync(direct, leaked);
        Console.WriteLine($"The leaked value at the fake OpenAI now: {(int)after.StatusCode}.");
        return rotation["status"]?.GetValue<string>() == "Succeeded" && after.StatusCode == HttpStatusCode.Unauthorized ? 0 : 1;
    }

    private static bool TryParse(IReadOnlyList<string> args, out int calls, out bool wait)
    {
        calls = 50;
        wait = false;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--wait":
                    wait = true;
                    break;
                case "--calls" when i + 1 < args.Count && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out calls) && calls is > 0 and <= 10_000:
                    i++;
                    break;
                default:
                    return false;
            }
        }
        return true;
    }

    private static Task<HttpResponseMessage> SendDirectAsync(HttpClient direct, string leaked)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", leaked);
        return direct.SendAsync(request);
    }

    /// <summary>What the fake's organization usage API reports for the key in the hour: the same call the sweep makes.</summary>
    private static async Task<long> ReportedRequestsAsync(HttpClient direct, string adminKey, string providerKeyId, DateTimeOffset from, DateTimeOffset to)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get,
            $"v1/organization/usage/completions?start_time={from.ToUnixTimeSeconds()}&end_time={to.ToUnixTimeSeconds()}" +
            $"&bucket_width=1h&group_by=api_key_id&api_key_ids={Uri.EscapeDataString(providerKeyId)}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        using var response = await direct.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"The fake's usage report answered {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!["data"]!.AsArray()
            .SelectMany(b => b!["results"]!.AsArray())
            .Where(r => r!["api_key_id"]?.GetValue<string>() == providerKeyId)
            .Sum(r => r!["num_model_requests"]!.GetValue<long>());
    }

    /// <summary>Waits for the hour to settle, then sweeps every few seconds until the finding is listed (or the patience is spent).</summary>
    private static async Task<JsonObject?> WaitForFindingAsync(HttpClient admin, string subject, DateTimeOffset hour, DateTimeOffset due)
    {
        var wait = due - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            Console.WriteLine($"Waiting {wait:hh\\:mm\\:ss} for the hour to settle.");
            await Task.Delay(wait);
        }

        var query = $"findings?detector=shadow_usage&subject={Uri.EscapeDataString(subject)}&from={Uri.EscapeDataString(Format(hour))}";
        while (DateTimeOffset.UtcNow < due + FindingPatience)
        {
            using (var run = await admin.PostAsync("sweeps/run", content: null))
            {
                var body = await run.Content.ReadAsStringAsync();
                Console.WriteLine(run.IsSuccessStatusCode
                    ? $"POST sweeps/run: {(int)run.StatusCode}, findings {JsonNode.Parse(body)!["findings"]}, warnings {JsonNode.Parse(body)!["warnings"]!.ToJsonString()}"
                    : $"POST sweeps/run: {(int)run.StatusCode} {body}");
            }

            var found = (await GetJsonAsync(admin, query))["items"]!.AsArray();
            if (found.Count > 0)
                return found[0]!.AsObject();
            await Task.Delay(Poll);
        }
        return null;
    }

    private static async Task<JsonObject> WaitForRotationAsync(HttpClient admin, string rotationId)
    {
        var until = DateTimeOffset.UtcNow + RotationPatience;
        while (true)
        {
            var rotation = await GetJsonAsync(admin, $"rotations/{KeyName}/{rotationId}");
            if (rotation["status"]?.GetValue<string>() != "Running" || DateTimeOffset.UtcNow > until)
                return rotation;
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    private static async Task<JsonObject> GetJsonAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"GET {new Uri(client.BaseAddress!, path).GetLeftPart(UriPartial.Path)}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    private static DateTimeOffset Hour(DateTimeOffset time) => new(time.Year, time.Month, time.Day, time.Hour, 0, 0, TimeSpan.Zero);

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>What the drill reads from <c>build.sh</c>'s environment.</summary>
    private sealed record DevEnvironment(Uri Host, string AdminKey, string? FunctionKey, Uri Vault, string VaultThumbprint, TimeSpan UsageSettle)
    {
        public static DevEnvironment? Read()
        {
            string? Get(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
            if (Get("FKO_DEV_PORT") is not { } port || Get("FKO_ADMIN_KEY") is not { } adminKey || Get("FKO_VAULT_URI") is not { } vault
                || Get("FKO_VAULT_THUMBPRINT") is not { } thumbprint)
                return null;
            // The settle the host runs with (build.sh exports dev's value before starting it); the product's default otherwise.
            var settle = Get("Anomalies__UsageSettle") is { } text && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var parsed) ? parsed : TimeSpan.FromHours(2);
            return new DevEnvironment(new Uri($"http://127.0.0.1:{port}/"), adminKey, Get("FKO_FUNCTION_KEY"), new Uri(vault), thumbprint, settle);
        }

        /// <summary>The admin API: <c>/api/admin</c> on the Server host, <c>/api/manage</c> with the function key under <c>dev --functions</c>.</summary>
        public HttpClient AdminClient()
        {
            var client = new HttpClient { BaseAddress = new Uri(Host, FunctionKey is null ? "api/admin/" : "api/manage/"), Timeout = TimeSpan.FromSeconds(60) };
            client.DefaultRequestHeaders.Add("x-fko-admin-key", AdminKey);
            if (FunctionKey is not null)
                client.DefaultRequestHeaders.Add("x-functions-key", FunctionKey);
            return client;
        }

        /// <summary>
        /// Dev's local vault, trusted by its certificate's thumbprint as the host trusts it
        /// (<c>KeyVault:TrustedCertificateThumbprint</c>), with the development token the host's credential hands out.
        /// </summary>
        public HttpClient VaultClient()
        {
            var handler = new HttpClientHandler
            {
                ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && string.Equals(certificate.Thumbprint, VaultThumbprint, StringComparison.OrdinalIgnoreCase),
            };
            var client = new HttpClient(handler) { BaseAddress = Vault, Timeout = TimeSpan.FromSeconds(30) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", DevProviders.DevelopmentToken);
            return client;
        }
    }
}
