namespace FuncKeyOps.Audit;

/// <summary>Where the relay hands audit rows; never blocks the request path.</summary>
public interface IAuditSink
{
    void Enqueue(AuditRecord record);

    /// <summary>
    /// False when a call should be refused because its row could not be kept (memory and spill full under
    /// <see cref="AuditWhenFull.Reject"/>). Read once per call, so it must stay a few field reads.
    /// </summary>
    bool HasRoom => true;
}
