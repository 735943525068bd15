namespace FuncKeyOps.Quotas;

/// <summary>
/// This instance's view of one usage row. Mutated only under the owning <see cref="KeyQuotaState"/>'s lock.
/// </summary>
internal sealed class UsageCounter(UsageWindow window)
{
    public UsageWindow Window { get; } = window;

    public string RowKey { get; } = window.RowKey;

    /// <summary>Local usage not yet confirmed in the row, including the delta of <see cref="Attempt"/>.</summary>
    public UsageTotals Pending { get; set; }

    /// <summary>The merge in progress. Its delta leaves <see cref="Pending"/> only once the row is known to hold it.</summary>
    public MergeAttempt? Attempt { get; set; }

    /// <summary>The row's totals as last read back: every instance's confirmed usage, ours included.</summary>
    public UsageTotals Global { get; set; }

    /// <summary>The part of <see cref="Global"/> this instance wrote; the rest is other instances'.</summary>
    public UsageTotals MergedHere { get; set; }

    /// <summary>The 80 % warning of this window is in storage (written by us or found written by another instance).</summary>
    public bool WarningRecorded { get; set; }

    /// <summary>What this instance knows the window has used.</summary>
    public UsageTotals Known => Global + Pending;

    public bool IsSettled => Pending.IsZero && Attempt is null;
}
