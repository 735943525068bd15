namespace FuncKeyOps.Rotation;

/// <summary>
/// Names one rotation: the provider key it rotates (the <c>rotations</c> table's PartitionKey) and its id (RowKey).
/// A key has at most one unfinished rotation, which is why the Durable instance id is <c>rotation-{keyName}</c>.
/// </summary>
public readonly record struct RotationId(string KeyName, string Id)
{
    public const string InstancePrefix = "rotation-";

    /// <summary>The Durable orchestration instance id: one per key, so a second start cannot run beside the first.</summary>
    public string InstanceId => InstancePrefix + KeyName;

    public override string ToString() => $"{KeyName}/{Id}";
}
