using FuncKeyOps.Testing.Functions;

namespace FuncKeyOps.Tests.Functions;

/// <summary>
/// A test that runs the Functions app under a Functions host. xunit 2 cannot skip from inside a test, so the skip
/// is decided here: without a host (<see cref="FunctionsHostInstance.SkipReason"/>) the test is skipped with
/// that one reason.
/// </summary>
public sealed class FunctionsHostFactAttribute : FactAttribute
{
    public FunctionsHostFactAttribute()
    {
        if (FunctionsHostInstance.SkipReason is { } reason)
            Skip = reason;
    }
}

/// <inheritdoc cref="FunctionsHostFactAttribute"/>
public sealed class FunctionsHostTheoryAttribute : TheoryAttribute
{
    public FunctionsHostTheoryAttribute()
    {
        if (FunctionsHostInstance.SkipReason is { } reason)
            Skip = reason;
    }
}
