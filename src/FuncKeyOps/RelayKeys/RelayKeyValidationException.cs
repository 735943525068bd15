namespace FuncKeyOps.RelayKeys;

/// <summary>A relay key spec was refused. <see cref="Errors"/> lists every problem, so an operator fixes them in one go.</summary>
public sealed class RelayKeyValidationException(IReadOnlyList<string> errors)
    : Exception(string.Join(" ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
