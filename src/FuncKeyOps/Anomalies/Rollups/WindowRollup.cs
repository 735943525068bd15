namespace FuncKeyOps.Anomalies.Rollups;

/// <summary>
/// The counts of one sweep window by every <see cref="RollupDimension"/>, built from the sweep's one pass over the
/// window's rows. Holds a cell per distinct value, never a row, so its memory grows with keys and sources only.
/// Every swept window gets one, an empty window too: its marker is what says the window is complete.
/// </summary>
internal sealed class WindowRollup(SweepWindow window)
{
    private readonly Dictionary<(RollupDimension Dimension, string? ProviderKey, string? Value), RollupCounts> _cells = [];

    public SweepWindow Window => window;

    /// <summary>Rows counted.</summary>
    public long Rows { get; private set; }

    /// <summary>Counts one row of the window into a cell of each dimension.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The row's time is outside the window.</exception>
    public void Add(in SweepRow row)
    {
        if (row.Time < window.Start || row.Time >= window.End)
            throw new ArgumentOutOfRangeException(nameof(row), row.Time, $"The row is not in window {window}.");
        Rows++;
        Cell(RollupDimension.Version, row.ProviderKeyName, row.ProviderKeyVersion).Add(row);
        Cell(RollupDimension.RelayKey, row.ProviderKeyName, row.RelayKeyId).Add(row);
        Cell(RollupDimension.Model, row.ProviderKeyName, row.Model).Add(row);
        Cell(RollupDimension.Tenant, null, row.Tenant).Add(row);
        Cell(RollupDimension.Source, null, row.SourceIp).Add(row);
    }

    /// <summary>The cells, in row-key order.</summary>
    public IReadOnlyList<RollupCell> Cells =>
    [
        .. _cells
            .Select(c => new RollupCell(c.Key.Dimension, c.Key.ProviderKey, c.Key.Value, c.Value))
            .OrderBy(c => c.RowKey, StringComparer.Ordinal),
    ];

    private RollupCounts Cell(RollupDimension dimension, string? providerKey, string? value)
    {
        var key = (dimension, providerKey, value);
        if (!_cells.TryGetValue(key, out var counts))
            _cells[key] = counts = new RollupCounts();
        return counts;
    }
}
