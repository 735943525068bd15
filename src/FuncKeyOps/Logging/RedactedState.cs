using System.Collections;
using System.Globalization;

namespace FuncKeyOps.Logging;

/// <summary>Structured log values after redaction, so JSON and OpenTelemetry exporters see no secret either.</summary>
internal sealed class RedactedState : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly KeyValuePair<string, object?>[] _values;

    private RedactedState(KeyValuePair<string, object?>[] values, string message)
    {
        _values = values;
        Message = message;
    }

    public string Message { get; }

    public static RedactedState From(IReadOnlyList<KeyValuePair<string, object?>> values, string message, SecretRedactor redactor)
    {
        var copy = new KeyValuePair<string, object?>[values.Count];
        for (var i = 0; i < copy.Length; i++)
        {
            var (key, value) = values[i];
            copy[i] = new(key, RedactValue(value, redactor)); // {OriginalFormat} too: an interpolated message is its own format
        }
        return new RedactedState(copy, message);
    }

    // Numbers, booleans, dates and the like cannot carry a key; everything else is rendered and checked.
    private static object? RedactValue(object? value, SecretRedactor redactor) => value switch
    {
        null => null,
        string s => redactor.Redact(s),
        _ when IsScalar(value) => value,
        _ => redactor.Redact(Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""),
    };

    private static bool IsScalar(object value) =>
        value.GetType().IsPrimitive || value is decimal or DateTime or DateTimeOffset or TimeSpan or Guid or Enum;

    public KeyValuePair<string, object?> this[int index] => _values[index];
    public int Count => _values.Length;
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_values).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    public override string ToString() => Message;
}
