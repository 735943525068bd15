namespace FuncKeyOps.Quotas;

/// <summary>Configuration section <c>Quotas</c>.</summary>
public sealed class QuotaOptions
{
    public const string Section = "Quotas";

    /// <summary>
    /// How often each instance merges its pending usage into the <c>usage</c> table and reads the shared totals back.
    /// Shorter means a smaller cross-instance overshoot (see docs/quotas.md) and more storage calls.
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A key unused this long, with all its usage stored, is forgotten; its next request starts from storage again.</summary>
    public TimeSpan IdleKeyTimeout { get; set; } = TimeSpan.FromMinutes(10);
}
