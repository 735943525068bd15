using System.Text.Json;
using System.Xml;

namespace FuncKeyOps.Rotation;

/// <summary>
/// A provider key's rotation policy, kept as JSON in its registration (<c>policy</c>):
/// <c>{"period":"P90D","warningWindow":"P14D","strategy":"canary","holds":"PT10M"}</c>, every field optional.
/// Durations are ISO-8601 (as the admin API's <c>holds</c>).
/// </summary>
public sealed record RotationPolicy
{
    public static readonly RotationPolicy Default = new();

    /// <summary>How old the active version may get before the daily schedule rotates it.</summary>
    public TimeSpan Period { get; init; } = TimeSpan.FromDays(90);

    /// <summary>How long before the period ends the daily schedule starts alerting.</summary>
    public TimeSpan WarningWindow { get; init; } = TimeSpan.FromDays(14);

    public RotationStrategy Strategy { get; init; } = RotationStrategy.Canary;

    /// <summary>Overrides the plan's holds (not its grace, which the staleness bound sets); null keeps the plan's.</summary>
    public TimeSpan? Holds { get; init; }

    /// <summary>Reads a stored or submitted policy; null or empty is <see cref="Default"/>.</summary>
    /// <exception cref="FormatException">The text is not a policy; the message says which field and why.</exception>
    public static RotationPolicy Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
            return Default;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            throw new FormatException("'policy' must be a JSON object.");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new FormatException("'policy' must be a JSON object.");
            var policy = Default;
            foreach (var field in document.RootElement.EnumerateObject())
            {
                policy = field.Name switch
                {
                    "period" => policy with { Period = Duration(field) },
                    "warningWindow" => policy with { WarningWindow = Duration(field) },
                    "holds" => policy with { Holds = Duration(field) },
                    "strategy" when field.Value.ValueKind == JsonValueKind.String && RotationStrategies.TryParse(field.Value.GetString(), out var s)
                        && s != RotationStrategy.Emergency => policy with { Strategy = s },
                    "strategy" => throw new FormatException(
                        $"'policy.strategy' must be one of: {string.Join(", ", RotationStrategies.Names.Where(n => n != "emergency"))}."),
                    _ => throw new FormatException($"'policy.{field.Name}' is not a policy field (period, warningWindow, strategy, holds)."),
                };
            }
            if (policy.WarningWindow >= policy.Period)
                throw new FormatException("'policy.warningWindow' must be shorter than 'policy.period'.");
            return policy;
        }
    }

    /// <summary>An ISO-8601 duration such as <c>PT1S</c> or <c>P90D</c>; zero or negative is refused.</summary>
    public static bool TryParseDuration(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text) || text[0] != 'P')
            return false;
        try
        {
            duration = XmlConvert.ToTimeSpan(text);
        }
        catch (FormatException)
        {
            return false;
        }
        catch (OverflowException)
        {
            return false;
        }
        return duration > TimeSpan.Zero;
    }

    private static TimeSpan Duration(JsonProperty field) =>
        field.Value.ValueKind == JsonValueKind.String && TryParseDuration(field.Value.GetString(), out var value)
            ? value
            : throw new FormatException($"'policy.{field.Name}' must be a positive ISO-8601 duration such as \"P90D\" or \"PT10M\".");
}
