namespace FuncKeyOps.Logging;

/// <summary>
/// Stands in for an exception whose text carried a secret: keeps the type name, redacted message and stack
/// so the log stays useful.
/// </summary>
internal sealed class RedactedException : Exception
{
    private readonly string _text;

    private RedactedException(string message, string text) : base(message) => _text = text;

    public override string ToString() => _text;

    public static Exception? From(Exception? exception, SecretRedactor redactor)
    {
        if (exception is null)
            return null;
        var text = exception.ToString();
        var redacted = redactor.Redact(text);
        return ReferenceEquals(text, redacted) || text == redacted
            ? exception
            : new RedactedException($"{exception.GetType().FullName}: {redactor.Redact(exception.Message)}", redacted);
    }
}
