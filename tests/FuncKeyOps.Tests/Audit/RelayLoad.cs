using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using FuncKeyOps.Relay;

namespace FuncKeyOps.Tests.Audit;

/// <summary>
/// Clients calling the relay back to back until told to stop. A call already sent when the stop comes is let
/// finish, so every call made has an answer: the answers are exactly the calls that must have an audit row.
/// </summary>
internal sealed class RelayLoad(HttpClient client, string relayKey)
{
    private const string ChatBody = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""";

    private readonly ConcurrentQueue<(int Status, string RequestId)> _answers = new();
    private readonly ConcurrentDictionary<int, string> _firstBodies = new();

    public IReadOnlyCollection<(int Status, string RequestId)> Answers => _answers;

    public IEnumerable<string> RequestIds => _answers.Select(a => a.RequestId);

    public int Count(int status) => _answers.Count(a => a.Status == status);

    /// <summary>The body of the first answer with this status, if there was one.</summary>
    public string? FirstBody(int status) => _firstBodies.GetValueOrDefault(status);

    /// <summary>
    /// Runs <paramref name="clients"/> callers, each starting at most one call per <paramref name="pace"/>, until
    /// <paramref name="stop"/> fires; completes when every call has its answer. The pace bounds the rows a run makes
    /// whatever the machine's speed, so the time to store them afterwards is bounded too.
    /// </summary>
    public Task RunAsync(int clients, TimeSpan pace, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(pace);
            try
            {
                do
                    await CallAsync();
                while (await timer.WaitForNextTickAsync(stop));
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The run is over; the call before this wait was answered.
            }
        })));

    /// <summary>One call, recorded with its status and request id.</summary>
    public async Task CallAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/relay/openai/v1/chat/completions")
        {
            Content = new StringContent(ChatBody, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", relayKey);
        // Never cancelled: a call that was sent is answered and counted.
        using var response = await client.SendAsync(request, CancellationToken.None);
        var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
        _firstBodies.TryAdd((int)response.StatusCode, body);
        var id = response.Headers.TryGetValues(RelayHandler.RequestIdHeader, out var ids) ? ids.Single() : "";
        _answers.Enqueue(((int)response.StatusCode, id));
    }
}
