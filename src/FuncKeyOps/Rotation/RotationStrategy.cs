namespace FuncKeyOps.Rotation;

/// <summary>How a rotation moves traffic to the new version; each strategy produces a plan (DESIGN.md, Rotation).</summary>
public enum RotationStrategy
{
    /// <summary>1, 5, 10, 25, 50, 100 % with a hold and an analysis after each shift; rollback over 1 % errors.</summary>
    Canary,
    /// <summary>Validate, hold, 100 % at once, grace, revoke.</summary>
    BlueGreen,
    /// <summary>Validate, 100 %, grace, revoke: no holds.</summary>
    Immediate,
    /// <summary>Contain first: the compromised version stops serving and is revoked at once, then the successor is created.</summary>
    Emergency,
}

public static class RotationStrategies
{
    public static string ToName(this RotationStrategy strategy) => strategy switch
    {
        RotationStrategy.Canary => "canary",
        RotationStrategy.BlueGreen => "blue-green",
        RotationStrategy.Immediate => "immediate",
        RotationStrategy.Emergency => "emergency",
        _ => throw new ArgumentOutOfRangeException(nameof(strategy)),
    };

    public static bool TryParse(string? name, out RotationStrategy strategy)
    {
        foreach (var candidate in Enum.GetValues<RotationStrategy>())
        {
            if (string.Equals(candidate.ToName(), name, StringComparison.OrdinalIgnoreCase))
            {
                strategy = candidate;
                return true;
            }
        }
        strategy = default;
        return false;
    }

    public static IEnumerable<string> Names => Enum.GetValues<RotationStrategy>().Select(s => s.ToName());
}
