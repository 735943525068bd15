using FuncKeyOps.Errors;

namespace FuncKeyOps.Anomalies.Sweep;

/// <summary>
/// What one pass over a window's rows keeps for the detectors: counters per relay key, per provider key version and
/// per source of failed authentications, and the window's rollup. Its size grows with the keys and sources seen, never with the rows.
/// </summary>
public sealed class WindowTally(SweepWindow window)
{
    private readonly Dictionary<string, RelayKeyTally> _relayKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Name, string Version), ProviderKeyTally> _providerKeys = new();
    private readonly Dictionary<string, long> _failedAuthBySource = new(StringComparer.Ordinal);

    public SweepWindow Window { get; } = window;
    public long Rows { get; private set; }
    public long FailedAuthentications { get; private set; }

    public IReadOnlyDictionary<string, RelayKeyTally> RelayKeys => _relayKeys;
    public IReadOnlyDictionary<(string Name, string Version), ProviderKeyTally> ProviderKeys => _providerKeys;
    /// <summary>Failed relay-key authentications (<c>invalid_relay_key</c>) by <see cref="SourceKey"/>.</summary>
    public IReadOnlyDictionary<string, long> FailedAuthBySource => _failedAuthBySource;

    /// <summary>The window's hourly-rollup counts, from the same pass (<see cref="Rollups.RollupWindowSink"/> stores them).</summary>
    internal Rollups.WindowRollup Rollup { get; } = new(window);

    public void Add(in SweepRow row)
    {
        Rows++;
        Rollup.Add(row);
        if (row.ErrorCode == FuncKeyOpsErrors.InvalidRelayKey.Code)
        {
            // A refused key is not a call of the key it claimed: counted by where it came from instead.
            FailedAuthentications++;
            var source = SourceKey.Of(row.SourceIp);
            _failedAuthBySource[source] = _failedAuthBySource.GetValueOrDefault(source) + 1;
            return;
        }

        if (row.ProviderKeyName is { } name && row.ProviderKeyVersion is { } version)
        {
            if (!_providerKeys.TryGetValue((name, version), out var providerKey))
                _providerKeys[(name, version)] = providerKey = new ProviderKeyTally(row.Provider);
            providerKey.Calls++;
            providerKey.InputTokens += row.InputTokens ?? 0;
            providerKey.OutputTokens += row.OutputTokens ?? 0;
            if (row.ErrorCode == FuncKeyOpsErrors.ProviderKeyRejected.Code)
                providerKey.Rejected++;
        }

        if (row.RelayKeyId is not { } relayKeyId || row.IsFailedAttempt)
            return;
        if (!_relayKeys.TryGetValue(relayKeyId, out var relayKey))
            _relayKeys[relayKeyId] = relayKey = new RelayKeyTally(row.Tenant);
        relayKey.Calls++;
        if (row.Status is >= 500 and <= 599)
            relayKey.Errors++;
        relayKey.InputTokens += row.InputTokens ?? 0;
        relayKey.OutputTokens += row.OutputTokens ?? 0;
        var from = SourceKey.Of(row.SourceIp);
        relayKey.CallsBySource[from] = relayKey.CallsBySource.GetValueOrDefault(from) + 1;
    }
}

/// <summary>One relay key's calls in a window (failed attempts left out: the client saw one answer per call).</summary>
public sealed class RelayKeyTally(string? tenant)
{
    public string? Tenant { get; } = tenant;
    public long Calls { get; internal set; }
    /// <summary>Calls the relay answered with a 5xx (its own, or the provider's passed on, 502 among them).</summary>
    public long Errors { get; internal set; }
    public long InputTokens { get; internal set; }
    public long OutputTokens { get; internal set; }
    public long Tokens => InputTokens + OutputTokens;
    /// <summary>Calls by <see cref="SourceKey"/>.</summary>
    public Dictionary<string, long> CallsBySource { get; } = new(StringComparer.Ordinal);
}

/// <summary>One provider key version's attempts in a window, failed attempts included: each was sent with that version.</summary>
public sealed class ProviderKeyTally(string provider)
{
    public string Provider { get; } = provider;
    public long Calls { get; internal set; }
    /// <summary>Attempts the provider refused the version on (<c>provider_key_rejected</c>).</summary>
    public long Rejected { get; internal set; }
    public long InputTokens { get; internal set; }
    public long OutputTokens { get; internal set; }
}
