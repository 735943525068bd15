using FuncKeyOps.Tests.Rotation;

namespace FuncKeyOps.Tests.Functions;

/// <summary>
/// The Functions app of the rotation tests: their Durable timers wait out each revoke grace for real, and a
/// <c>holds</c> override never shortens it, so the app runs with <see cref="ShortGrace"/>'s staleness bound (seconds).
/// The other Functions tests keep the relay's and caches' own settings.
/// </summary>
public sealed class FunctionsRotationApp : FunctionsApp
{
    protected override IReadOnlyDictionary<string, string?> MoreSettings => ShortGrace.Settings();
}
