namespace FuncKeyOps.Tests.Operators;

/// <summary>
/// A fact that needs a Functions host: skipped, with the reason, when <c>FKO_FUNCTIONS_HOST</c> names none
/// (xunit 2 decides skips when it discovers tests, so the check is made here and not inside the test).
/// </summary>
public sealed class FunctionsHostFactAttribute : FactAttribute
{
    public const string Variable = "FKO_FUNCTIONS_HOST";

    public FunctionsHostFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)))
            Skip = $"{Variable} is not set: no Functions host to run the Functions app under (./build.sh test sets it when ../shared/functions-host/run.sh exists)";
    }
}
