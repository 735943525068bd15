using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Rotation;

/// <summary>
/// The driver a host has until it registers its own (the Functions app's Durable driver, the Server host's
/// background driver, registered after <see cref="RotationRegistration.AddRotation"/> so they replace this one):
/// rotation rows are written and nothing runs them, which the log says. Lets a host start, and its admin API answer.
/// </summary>
internal sealed partial class UndrivenRotationDriver(ILogger<UndrivenRotationDriver> logger) : IRotationDriver
{
    public Task<bool> IsRunningAsync(string keyName, CancellationToken cancellationToken) => Task.FromResult(false);

    public Task ScheduleAsync(RotationId rotation, CancellationToken cancellationToken)
    {
        LogUndriven(logger, rotation.ToString());
        return Task.CompletedTask;
    }

    public Task SignalAbortAsync(RotationId rotation, CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rotation {Rotation} was recorded, but this host has no rotation driver to run it")]
    private static partial void LogUndriven(ILogger logger, string rotation);
}
