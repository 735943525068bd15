namespace FuncKeyOps.Testing.Providers;

/// <summary>Thread-safe list of received requests that tests can wait on instead of polling.</summary>
internal sealed class RequestLog
{
    private readonly object _gate = new();
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];

    public void Add(RecordedRequest request)
    {
        List<TaskCompletionSource> ready = [];
        lock (_gate)
        {
            _requests.Add(request);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Count <= _requests.Count)
                {
                    ready.Add(_waiters[i].Signal);
                    _waiters.RemoveAt(i);
                }
            }
        }

        // Completed outside the lock: the signals run continuations asynchronously anyway, but this keeps the lock short.
        foreach (var signal in ready)
        {
            signal.TrySetResult();
        }
    }

    public IReadOnlyList<RecordedRequest> Snapshot()
    {
        lock (_gate)
        {
            return _requests.ToArray();
        }
    }

    public Task WaitForCountAsync(int count, CancellationToken ct)
    {
        TaskCompletionSource signal;
        lock (_gate)
        {
            if (_requests.Count >= count)
            {
                return Task.CompletedTask;
            }

            signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, signal));
        }

        return signal.Task.WaitAsync(ct);
    }
}
