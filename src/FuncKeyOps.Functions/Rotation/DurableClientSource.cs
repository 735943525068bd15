using Microsoft.DurableTask.Client;

namespace FuncKeyOps.Functions.Rotation;

/// <summary>
/// The Durable client for <see cref="FuncKeyOps.Rotation.Durable.DurableRotationDriver"/>. The isolated worker
/// hands a client only to a function with a <c>[DurableClient]</c> binding, so each such trigger (admin, schedule)
/// passes its client here before calling the library. One instance for the app, so singletons that take the driver
/// work: the binding's client is a thin per-invocation wrapper over the one gRPC client the extension keeps per task
/// hub, so any bound client reaches the same hub.
/// </summary>
public sealed class DurableClientSource
{
    private volatile DurableTaskClient? _client;

    public void Use(DurableTaskClient client) => _client = client;

    public DurableTaskClient Client => _client ?? throw new InvalidOperationException(
        "No Durable client was bound yet: the rotation driver is used only from a function with a [DurableClient] binding.");
}
