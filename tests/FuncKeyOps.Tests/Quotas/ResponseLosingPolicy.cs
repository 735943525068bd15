using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing.Storage;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Tests.Quotas;

/// <summary>
/// Lets writes to one table reach storage, then throws away the answer as a dropped connection would: the write
/// happened but the writer cannot know. Sits inside the SDK's retry loop, so the SDK retries the same request.
/// </summary>
internal sealed class ResponseLosingPolicy(string physicalTable) : HttpPipelinePolicy
{
    public enum Lose { None, FirstAttempt, Every }

    private readonly ConcurrentDictionary<string, bool> _attempted = new();
    private int _lost;

    public Lose Mode { get; set; }

    public int LostCount => _lost;

    /// <summary>A table store on the shared Azurite whose usage writes go through <paramref name="policy"/>.</summary>
    public static async Task<TableStore> TablesAsync(string prefix, ResponseLosingPolicy policy)
    {
        var connectionString = await SharedAzurite.GetConnectionStringAsync();
        var options = new TableClientOptions();
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.AddPolicy(policy, HttpPipelinePosition.PerRetry);
        return new TableStore(new TableServiceClient(connectionString, options), Options.Create(new StorageOptions { TablePrefix = prefix }));
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline);
        ThrowIfLost(message);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ProcessNext(message, pipeline);
        ThrowIfLost(message);
    }

    private void ThrowIfLost(HttpMessage message)
    {
        if (Mode == Lose.None || message.Request.Method == RequestMethod.Get || !message.Request.Uri.Path.Contains("/" + physicalTable, StringComparison.Ordinal))
            return;
        var firstAttempt = _attempted.TryAdd(message.Request.ClientRequestId, true);
        if (Mode == Lose.Every || firstAttempt)
        {
            Interlocked.Increment(ref _lost);
            throw new IOException("Test: the connection dropped after the request was sent.");
        }
    }
}
