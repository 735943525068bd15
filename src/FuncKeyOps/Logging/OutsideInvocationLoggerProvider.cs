using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Logging;

/// <summary>
/// Passes on only what is logged outside a Functions invocation. The isolated worker sends the host what is logged
/// inside one itself; a second channel to the host (the worker's console) then needs only the rest, or every such
/// line would show twice.
/// </summary>
internal sealed class OutsideInvocationLoggerProvider(ILoggerProvider inner) : ILoggerProvider, ISupportExternalScope
{
    // The worker opens a logging scope holding this key around each invocation (and tags what it sends the host by it).
    internal const string InvocationIdKey = "AzureFunctions_InvocationId";

    private IExternalScopeProvider? _scopes;

    public ILogger CreateLogger(string categoryName) => new OutsideInvocationLogger(inner.CreateLogger(categoryName), this);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider)
    {
        _scopes = scopeProvider;
        if (inner is ISupportExternalScope external)
            external.SetScopeProvider(scopeProvider);
    }

    public void Dispose() => inner.Dispose();

    private bool InInvocation()
    {
        var found = false;
        _scopes?.ForEachScope((scope, _) =>
        {
            if (!found && scope is IEnumerable<KeyValuePair<string, object?>> values)
                found = values.Any(value => value.Key == InvocationIdKey);
        }, (object?)null);
        return found;
    }

    private sealed class OutsideInvocationLogger(ILogger inner, OutsideInvocationLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (inner.IsEnabled(logLevel) && !provider.InInvocation())
                inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
