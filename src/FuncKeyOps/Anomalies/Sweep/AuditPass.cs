using Azure.Data.Tables;
using FuncKeyOps.Audit;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Anomalies.Sweep;

/// <summary>
/// One window's audit rows, streamed: the table service filters by partition-key ranges of the window's seconds and
/// sends only <see cref="SweepRow.Columns"/>; a few slices are read at once (<see cref="AuditSliceReader"/>) and merged
/// into this one stream, so nothing here holds more than the pages in flight, and each row comes once.
/// </summary>
public sealed class AuditPass(TableStore tables)
{
    public async IAsyncEnumerable<SweepRow> ReadAsync(SweepWindow window, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var entity in EntitiesAsync(window, cancellationToken).ConfigureAwait(false))
            yield return SweepRow.From(entity);
    }

    /// <summary>The rows as the table service sent them: what <c>bench/sweep</c> reads as its floor, the same way.</summary>
    internal IAsyncEnumerable<TableEntity> EntitiesAsync(SweepWindow window, CancellationToken cancellationToken) =>
        AuditSliceReader.ReadAsync(tables, window.Start, window.End, SweepRow.Columns, cancellationToken);
}
