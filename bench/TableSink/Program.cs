using System.Buffers;
using System.Text;
using Azure.Data.Tables;
using Yarp.ReverseProxy.Forwarder;

// Table Storage as seen from a relay whose storage is another machine, for the benchmark's "off-box" target: every
// entity-group transaction ($batch, which only the audit writer sends) is answered as committed after its body was
// read whole, and its operations are counted; every other call (relay keys, provider keys, usage rows) goes on to
// Azurite. The relay still builds, serialises and sends every audit row; only the storage service's own CPU
// leaves the machine, as it does in Azure.
//   TableSink --urls http://127.0.0.1:PORT --azurite http://127.0.0.1:AZURITE_PORT
string? azurite = null;
for (var i = 0; i + 1 < args.Length; i++)
{
    if (args[i] == "--azurite")
        azurite = args[++i];
}
if (azurite is null)
{
    Console.Error.WriteLine("usage: TableSink --urls URL --azurite URL");
    return 2;
}

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.ConfigureKestrel(k =>
{
    k.AddServerHeader = false;
    k.Limits.MaxRequestBodySize = 8 * 1024 * 1024;
});
builder.Services.AddHttpForwarder();
var app = builder.Build();
var counts = new SinkCounts();

app.Use(async (context, next) =>
{
    if (!HttpMethods.IsPost(context.Request.Method) || !context.Request.Path.Value!.EndsWith("/$batch", StringComparison.Ordinal))
    {
        await next(context);
        return;
    }
    var operations = await BatchBody.CountOperationsAsync(context.Request.BodyReader, context.RequestAborted);
    counts.Add(operations);
    var response = BatchBody.CommittedResponse(operations, out var boundary);
    context.Response.StatusCode = StatusCodes.Status202Accepted;
    context.Response.ContentType = "multipart/mixed; boundary=" + boundary;
    context.Response.Headers["DataServiceVersion"] = "3.0;";
    context.Response.ContentLength = response.Length;
    await context.Response.Body.WriteAsync(response, context.RequestAborted);
});
app.MapGet("/sink/stats", () => Results.Json(new { rows = counts.Rows, transactions = counts.Transactions }));
app.MapForwarder("/{**rest}", azurite);

await app.StartAsync();
// The answer must be one the Azure SDK accepts as a committed transaction, or the benchmark would measure
// retries: check with the SDK itself before anything is measured.
var self = app.Urls.First();
var probe = new TableClient(
    $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint={self}/devstoreaccount1;",
    "sinkprobe");
await probe.SubmitTransactionAsync(
[
    new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", "a") { ["N"] = 1 }),
    new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity("p", "b") { ["N"] = 2 }),
]);
if (counts.Rows != 2)
    throw new InvalidOperationException($"The self-check transaction counted {counts.Rows} operations, not 2.");
counts.Reset();
Console.WriteLine("READY");
await app.WaitForShutdownAsync();
return 0;

internal sealed class SinkCounts
{
    private long _rows;
    private long _transactions;

    public long Rows => Interlocked.Read(ref _rows);

    public long Transactions => Interlocked.Read(ref _transactions);

    public void Add(int operations)
    {
        Interlocked.Add(ref _rows, operations);
        Interlocked.Increment(ref _transactions);
    }

    public void Reset()
    {
        Interlocked.Exchange(ref _rows, 0);
        Interlocked.Exchange(ref _transactions, 0);
    }
}

internal static class BatchBody
{
    // Each operation of a changeset is one MIME part of this type.
    private static readonly byte[] OperationPart = "Content-Type: application/http"u8.ToArray();

    public static async Task<int> CountOperationsAsync(System.IO.Pipelines.PipeReader body, CancellationToken cancellationToken)
    {
        var count = 0;
        while (true)
        {
            var read = await body.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            var consumed = Count(ref buffer, ref count, read.IsCompleted);
            body.AdvanceTo(consumed, buffer.End);
            if (read.IsCompleted)
                return count;
        }
    }

    private static SequencePosition Count(ref ReadOnlySequence<byte> buffer, ref int count, bool final)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (reader.TryAdvanceTo(OperationPart[0], advancePastDelimiter: false))
        {
            if (reader.Remaining < OperationPart.Length && !final)
                return reader.Position;
            if (reader.IsNext(OperationPart, advancePast: true))
                count++;
            else
                reader.Advance(1);
        }
        return buffer.End;
    }

    public static byte[] CommittedResponse(int operations, out string boundary)
    {
        boundary = "batchresponse_" + Guid.NewGuid().ToString("D");
        var changeset = "changesetresponse_" + Guid.NewGuid().ToString("D");
        var text = new StringBuilder(128 + operations * 200);
        text.Append("--").Append(boundary).Append("\r\n")
            .Append("Content-Type: multipart/mixed; boundary=").Append(changeset).Append("\r\n\r\n");
        for (var i = 0; i < operations; i++)
        {
            text.Append("--").Append(changeset).Append("\r\n")
                .Append("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n")
                .Append("HTTP/1.1 204 No Content\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-cache\r\n")
                .Append("DataServiceVersion: 3.0;\r\nETag: W/\"datetime'2026-01-01T00%3A00%3A00.0000000Z'\"\r\n\r\n");
        }
        text.Append("--").Append(changeset).Append("--\r\n--").Append(boundary).Append("--\r\n");
        return Encoding.ASCII.GetBytes(text.ToString());
    }
}
