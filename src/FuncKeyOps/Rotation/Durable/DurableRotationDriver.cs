using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace FuncKeyOps.Rotation.Durable;

/// <summary>
/// The Functions host's <see cref="IRotationDriver"/>: one <see cref="RotationOrchestration"/> instance per key,
/// <c>rotation-{keyName}</c>, over the Durable client the calling function was bound to.
/// </summary>
/// <param name="client">The Durable client; a function (not a constructor) because the Functions app only gets one
/// through a trigger's <c>[DurableClient]</c> binding.</param>
public sealed class DurableRotationDriver(Func<DurableTaskClient> client) : IRotationDriver
{
    public async Task<bool> IsRunningAsync(string keyName, CancellationToken cancellationToken) =>
        IsLive(await client().GetInstanceAsync(RotationId.InstancePrefix + keyName, getInputsAndOutputs: false, cancellationToken)
            .ConfigureAwait(false));

    /// <summary>
    /// Schedules the rotation's orchestration from step 0. Scheduling an instance id that exists replaces the
    /// instance (terminating a running one, depending on the backend), so a live instance is looked at first: one
    /// already driving this rotation (a retried start) is left alone; one driving another rotation of the key is
    /// refused. A finished instance of an earlier rotation is replaced.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another rotation of the key is still being driven.</exception>
    public async Task ScheduleAsync(RotationId rotation, CancellationToken cancellationToken)
    {
        var durable = client();
        var existing = await durable.GetInstanceAsync(rotation.InstanceId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        if (IsLive(existing))
        {
            var driven = existing!.ReadInputAs<RotationStepInput>()?.Rotation;
            if (driven == rotation)
                return;
            throw new InvalidOperationException($"{rotation.InstanceId} still drives rotation {driven}; {rotation} was not scheduled.");
        }
        await durable.ScheduleNewOrchestrationInstanceAsync(
            RotationOrchestration.Name, new RotationStepInput(rotation, 0), new StartOrchestrationOptions(rotation.InstanceId),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Wakes a live instance; a finished or missing one has no hold to interrupt (the row carries the abort).</summary>
    public async Task SignalAbortAsync(RotationId rotation, CancellationToken cancellationToken)
    {
        var durable = client();
        if (IsLive(await durable.GetInstanceAsync(rotation.InstanceId, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false)))
            await durable.RaiseEventAsync(rotation.InstanceId, RotationOrchestration.AbortEvent, eventPayload: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pending, running or suspended: the instance will still run steps. Completed, failed or terminated
    /// ones are history of an earlier rotation.</summary>
    private static bool IsLive(OrchestrationMetadata? instance) => instance?.RuntimeStatus is
        OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Suspended;
}
