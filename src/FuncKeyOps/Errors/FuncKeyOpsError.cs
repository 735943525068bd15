namespace FuncKeyOps.Errors;

/// <summary>
/// One entry of <see cref="FuncKeyOpsErrors"/>: the code a client or an audit row sees, the HTTP status it is answered
/// with, and the message used when the call site has nothing more specific to say.
/// </summary>
public sealed record FuncKeyOpsError(string Code, int Status, string Message)
{
    public override string ToString() => $"{Status} {Code}";
}
