using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace FuncKeyOps.Tests.Server;

/// <summary>
/// Counts requests still inside the pipeline. A client can hold a whole response (Content-Length reached) before the
/// handler's own finally has run, so a test that reads what a request left behind (its audit row) first waits here.
/// </summary>
internal sealed class InFlightRequests : IStartupFilter
{
    private readonly Lock _lock = new();
    private int _count;
    private TaskCompletionSource _idle = NewIdle(completed: true);

    /// <summary>Completes once no request is in the pipeline.</summary>
    public Task WaitIdleAsync()
    {
        lock (_lock)
            return _idle.Task;
    }

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, inner) =>
        {
            Enter();
            try
            {
                await inner(context);
            }
            finally
            {
                Exit();
            }
        });
        next(app);
    };

    private void Enter()
    {
        lock (_lock)
        {
            if (_count++ == 0)
                _idle = NewIdle(completed: false);
        }
    }

    private void Exit()
    {
        lock (_lock)
        {
            if (--_count == 0)
                _idle.TrySetResult();
        }
    }

    private static TaskCompletionSource NewIdle(bool completed)
    {
        var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
            idle.SetResult();
        return idle;
    }
}
