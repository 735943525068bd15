using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Logging;

/// <summary>Wraps another provider so everything it receives (message, structured values, exception text) is redacted first.</summary>
internal sealed class RedactingLoggerProvider(ILoggerProvider inner, SecretRedactor redactor) : ILoggerProvider, ISupportExternalScope
{
    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName), redactor);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider)
    {
        if (inner is ISupportExternalScope external)
            external.SetScopeProvider(scopeProvider);
    }

    public void Dispose() => inner.Dispose();
}

internal sealed class RedactingLogger(ILogger inner, SecretRedactor redactor) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!inner.IsEnabled(logLevel))
            return;
        var message = redactor.Redact(formatter(state, exception));
        var safeException = RedactedException.From(exception, redactor);
        if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
        {
            inner.Log(logLevel, eventId, RedactedState.From(values, message, redactor), safeException, static (s, _) => s.Message);
        }
        else
        {
            inner.Log(logLevel, eventId, message, safeException, static (s, _) => s);
        }
    }
}
