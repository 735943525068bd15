using System.Collections.Concurrent;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>
/// A rotation's step boundaries as its load's callers see them: the epoch is odd while one of its steps runs (the
/// weights may change under a call) and even between steps, when the weights read right after the step are the ones in
/// force until the next step begins. A call that begins and ends in the same even epoch was routed with that epoch's
/// weights, whatever the clocks say.
/// </summary>
internal sealed class WeightEpochs
{
    private readonly ConcurrentDictionary<int, IReadOnlyDictionary<string, int>> _weights = new();
    private int _epoch;

    public WeightEpochs(IReadOnlyDictionary<string, int> before) => _weights[0] = before;

    public int Current => Volatile.Read(ref _epoch);

    /// <summary>Called by the step runner before each step of the rotation (steps of one rotation never overlap).</summary>
    public void StepBegins() => Interlocked.Increment(ref _epoch);

    /// <summary>Called by the step runner once the step has returned, with the key's weights as the step left them.</summary>
    public void StepEnded(IReadOnlyDictionary<string, int> weights)
    {
        _weights[Current + 1] = weights;
        Interlocked.Increment(ref _epoch);
    }

    /// <summary>The weights in force throughout an even epoch.</summary>
    public IReadOnlyDictionary<string, int> WeightsOf(int epoch) => _weights[epoch];
}
