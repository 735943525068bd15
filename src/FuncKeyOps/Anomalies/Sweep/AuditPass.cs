using FuncKeyOps.Audit;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Anomalies.Sweep;

/// <summary>
/// One window's audit rows, streamed: the table service filters by the window's partition-key range and time and sends
/// only <see cref="SweepRow.Columns"/>, a page at a time, so nothing here holds more than the page being read.
/// </summary>
public sealed class AuditPass(TableStore tables)
{
    public async IAsyncEnumerable<SweepRow> ReadAsync(SweepWindow window, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = AuditQuery.Filter(window.Start, window.End, relayKeyId: null);
        foreach (var month in AuditQuery.Months(window.Start, window.End))
        {
            await foreach (var entity in AuditQuery.ReadAsync(tables, month, filter, SweepRow.Columns, cancellationToken).ConfigureAwait(false))
                yield return SweepRow.From(entity);
        }
    }
}
