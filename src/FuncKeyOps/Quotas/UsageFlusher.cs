using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Quotas;

/// <summary>
/// Runs <see cref="QuotaGate.FlushAsync"/> every <see cref="QuotaOptions.FlushInterval"/> of the injected
/// <see cref="TimeProvider"/>, and once more on shutdown so a graceful stop loses no counted usage.
/// </summary>
public sealed class UsageFlusher : BackgroundService
{
    private readonly QuotaGate _gate;

    // Created here, not in ExecuteAsync (which runs on the thread pool): ticks are counted from construction,
    // so a clock that moves before the loop first waits still triggers a flush.
    private readonly PeriodicTimer _timer;

    public UsageFlusher(QuotaGate gate, IOptions<QuotaOptions> options, TimeProvider time)
    {
        _gate = gate;
        _timer = new PeriodicTimer(options.Value.FlushInterval, time);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
                await _gate.FlushAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync does the last flush.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _gate.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Out of shutdown time: what is still pending is lost with the process, at most one flush interval's worth.
        }
    }

    public override void Dispose()
    {
        _timer.Dispose();
        base.Dispose();
    }
}
