using System.Collections.Concurrent;
using FuncKeyOps.ProviderKeys;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Rotation.Server;

/// <summary>
/// The Server host's rotation driver: every <see cref="RotationDriverOptions.PollInterval"/>, or at once when a start or
/// an abort on this instance wakes it, it leases the due <c>rotations</c> rows (<see cref="RotationLeases"/>) and runs
/// their next step with <see cref="IRotationStepRunner"/>, then the following ones while they are due, then releases the
/// row. Each leased row is driven on its own, beside the others and beside the next sweeps, so a rotation whose step is
/// slow (a provider that takes its time) holds up no other one; a step that waits records its wait on the row
/// (<see cref="RotationColumns.NextDue"/>), so the row is left alone until then. The row is the only state: a driver that crashes leaves its lease to run out, and whichever instance takes the
/// row next runs the step the row names. On a graceful stop the step under way finishes (or is cancelled when the host's
/// shutdown time is up; a step is safe to run again) and the lease is released, so another instance can go on at once.
/// </summary>
public sealed partial class RotationDriverService : BackgroundService, IRotationDriver
{
    private readonly RotationLeases _leases;
    private readonly IRotationStepRunner _runner;
    private readonly RotationDriverOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    // Created here, not in ExecuteAsync: ticks are counted from construction, so time that passes during a sweep (or
    // before the loop first waits) still counts towards the next one.
    private readonly PeriodicTimer _poll;
    private readonly ConcurrentDictionary<RotationId, byte> _runNow = new();
    // The rows this instance drives now: a sweep leaves them to their drive, and a stop waits for them.
    private readonly ConcurrentDictionary<RotationId, Task> _driving = new();
    private readonly ConcurrentQueue<TaskCompletionSource> _sweepWaiters = new();
    // Cancelled only when the host's shutdown time is up: a stop request alone lets the step under way finish.
    private readonly CancellationTokenSource _abandon = new();
    private TaskCompletionSource _wake = NewSignal();

    public RotationDriverService(RotationLeases leases, IRotationStepRunner runner, IOptions<RotationDriverOptions> options, TimeProvider time,
        ILogger<RotationDriverService> logger)
    {
        _leases = leases;
        _runner = runner;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _poll = new PeriodicTimer(_options.PollInterval, time);
    }

    /// <summary>This instance's name in <see cref="RotationColumns.LeaseOwner"/>: unique per process, so a restarted process never mistakes an old lease for its own.</summary>
    public string Owner { get; } = $"{Environment.MachineName}/{Guid.NewGuid():N}";

    /// <summary>The Server host keeps no run state besides the row, whose status the starter already checks.</summary>
    public Task<bool> IsRunningAsync(string keyName, CancellationToken cancellationToken) => Task.FromResult(false);

    /// <summary>Wakes the loop to run the new rotation's first step now, instead of at the next poll.</summary>
    public Task ScheduleAsync(RotationId rotation, CancellationToken cancellationToken) => RunSoon(rotation);

    /// <summary>Wakes the loop to run the row now even inside a hold: the step runner sees the abort on the row and rolls back.</summary>
    public Task SignalAbortAsync(RotationId rotation, CancellationToken cancellationToken) => RunSoon(rotation);

    private Task RunSoon(RotationId rotation)
    {
        _runNow[rotation] = 0;
        Volatile.Read(ref _wake).TrySetResult();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Completes when a sweep that begins after this call has ended, and with it every drive under way when it ended
    /// (tests wait on it instead of sleeping).
    /// </summary>
    internal Task NextSweepAsync()
    {
        var waiter = NewSignal();
        _sweepWaiters.Enqueue(waiter);
        return waiter.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Drive)
            return;
        Task<bool>? tick = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            var wake = Volatile.Read(ref _wake);
            var waiters = Drain(_sweepWaiters);
            try
            {
                await SweepAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                LogSweepFailed(_logger, e);
            }
            if (waiters.Count > 0)
                _ = CompleteAfterDrivesAsync(waiters);

            tick ??= _poll.WaitForNextTickAsync(stoppingToken).AsTask();
            await Task.WhenAny(tick, wake.Task).ConfigureAwait(false);
            if (tick.IsCompleted)
                tick = null;
            // A signal that arrives after this swap sets the new source and is seen by the next wait; one that arrived
            // before it is covered by the sweep about to start.
            if (wake.Task.IsCompleted)
                Interlocked.CompareExchange(ref _wake, NewSignal(), wake);
        }
        // A graceful stop lets the steps under way finish (StopAsync cancels them once the shutdown time is up).
        await Task.WhenAll(_driving.Values).ConfigureAwait(false);
    }

    private async Task CompleteAfterDrivesAsync(List<TaskCompletionSource> waiters)
    {
        await Task.WhenAll(_driving.Values).ConfigureAwait(false);
        foreach (var waiter in waiters)
            waiter.TrySetResult();
    }

    private async Task SweepAsync(CancellationToken stoppingToken)
    {
        var runNow = Drain(_runNow);
        try
        {
            var due = await _leases.FindDueAsync(_time.GetUtcNow(), runNow, stoppingToken).ConfigureAwait(false);
            foreach (var row in due)
            {
                if (stoppingToken.IsCancellationRequested)
                    return;
                if (_driving.ContainsKey(row.Rotation))
                    continue; // its lease ran out under this instance's own drive, which is stopping
                var leased = await _leases.TryAcquireAsync(row, Owner, _time.GetUtcNow() + _options.LeaseLength, stoppingToken).ConfigureAwait(false);
                if (leased is null)
                    continue; // another instance leased it between the read and this write: it runs the step
                runNow.Remove(row.Rotation);
                StartDrive(leased, stoppingToken);
            }
        }
        finally
        {
            // A signal for a row this instance is driving now (an abort during its step) is kept: the row is swept
            // again as soon as that drive hands it back, instead of at the end of its hold.
            foreach (var rotation in runNow.Where(_driving.ContainsKey))
                _runNow.TryAdd(rotation, 0);
        }
    }

    private void StartDrive(RotationRowState row, CancellationToken stoppingToken)
    {
        var drive = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _driving[row.Rotation] = drive.Task;
        _ = Task.Run(async () =>
        {
            try
            {
                await DriveAsync(row, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // The lease runs out and a later sweep (on any instance) takes the row again.
                LogDriveFailed(_logger, row.Rotation.ToString(), e);
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                _driving.TryRemove(row.Rotation, out _);
                drive.TrySetResult();
                if (_runNow.ContainsKey(row.Rotation))
                    Volatile.Read(ref _wake).TrySetResult();
            }
        }, CancellationToken.None);
    }

    /// <summary>Runs the leased row's steps while they are due and this instance keeps the lease, then releases it.</summary>
    private async Task DriveAsync(RotationRowState row, CancellationToken stoppingToken)
    {
        var release = true;
        try
        {
            while (true)
            {
                RotationStepResult result;
                // The step is cancelled when the lease runs out: by then another instance may have taken the row over,
                // and a driver that was only paused (a long GC, a frozen VM) and comes back must not go on writing weights,
                // tags or keys from the state it read before: its next call throws instead.
                using var leaseRunsOut = new CancellationTokenSource(LeaseLeft(row), _time);
                using var stepToken = CancellationTokenSource.CreateLinkedTokenSource(_abandon.Token, leaseRunsOut.Token);
                try
                {
                    result = await _runner.RunStepAsync(row.Rotation, row.StepIndex, row.Fence, stepToken.Token).ConfigureAwait(false);
                }
                catch (Exception e) when ((leaseRunsOut.IsCancellationRequested || e is FencedOutException) && !_abandon.IsCancellationRequested)
                {
                    // Neither renewed nor released: the row is free for whichever driver sweeps next, and may be taken already.
                    release = false;
                    LogLeaseLost(_logger, row.Rotation.ToString());
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException || !_abandon.IsCancellationRequested)
                {
                    LogStepFailed(_logger, row.Rotation.ToString(), row.StepIndex, e);
                    // Keep the lease until the retry time instead of releasing it: a step that keeps failing is then tried
                    // again every StepRetryDelay, by whichever instance, not on every poll.
                    release = false;
                    await _leases.RenewAsync(row.Rotation, Owner, _time.GetUtcNow() + _options.StepRetryDelay, CancellationToken.None).ConfigureAwait(false);
                    return;
                }
                if (result.IsFinal || stoppingToken.IsCancellationRequested)
                    return;
                var now = _time.GetUtcNow();
                // The step runner has moved the row on; read it back (renewing the lease) to see whether the next step is due.
                if (await _leases.RenewAsync(row.Rotation, Owner, now + _options.LeaseLength, stoppingToken).ConfigureAwait(false) is not { } renewed)
                {
                    release = false; // taken over: this instance's lease had run out during the step
                    LogLeaseLost(_logger, row.Rotation.ToString());
                    return;
                }
                row = renewed;
                if (!row.IsDue(now))
                    return; // a wait: the sweep after NextDue (on any instance) runs the next step
            }
        }
        finally
        {
            // Not tied to the stop: a stopping instance still hands the row back, so another one goes on without waiting for the lease to run out.
            if (release)
                await _leases.ReleaseAsync(row.Rotation, Owner, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private TimeSpan LeaseLeft(RotationRowState row)
    {
        var left = (row.LeaseUntil ?? _time.GetUtcNow()) - _time.GetUtcNow();
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            using (cancellationToken.Register(_abandon.Cancel))
                await base.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Also here: the registration may be gone before its callback ran, when the stop returned on that same cancellation.
            if (cancellationToken.IsCancellationRequested)
                await _abandon.CancelAsync().ConfigureAwait(false);
        }
    }

    public override void Dispose()
    {
        _poll.Dispose();
        base.Dispose();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static List<TaskCompletionSource> Drain(ConcurrentQueue<TaskCompletionSource> queue)
    {
        var drained = new List<TaskCompletionSource>();
        while (queue.TryDequeue(out var item))
            drained.Add(item);
        return drained;
    }

    private static HashSet<RotationId> Drain(ConcurrentDictionary<RotationId, byte> signalled)
    {
        var drained = new HashSet<RotationId>();
        foreach (var rotation in signalled.Keys)
        {
            if (signalled.TryRemove(rotation, out _))
                drained.Add(rotation);
        }
        return drained;
    }

    // A warning, as every other storage outage is: the sweep only reads and leases, and the next poll heals it.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Rotation driver sweep failed; the next poll tries again")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rotation {Rotation}: driving it failed (storage); its lease runs out and the next sweep takes it again")]
    private static partial void LogDriveFailed(ILogger logger, string rotation, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Rotation {Rotation} step {StepIndex} failed; it is tried again after the retry delay")]
    private static partial void LogStepFailed(ILogger logger, string rotation, int stepIndex, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rotation {Rotation}: this driver's lease ran out during a step; whichever driver takes the row goes on from it")]
    private static partial void LogLeaseLost(ILogger logger, string rotation);
}
