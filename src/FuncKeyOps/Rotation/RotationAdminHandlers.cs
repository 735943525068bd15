using FuncKeyOps.Admin;
using FuncKeyOps.Errors;
using FuncKeyOps.ProviderKeys;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Rotation;

/// <summary>Admin calls for rotations, written against HttpContext for both hosts. Never shows a key value.</summary>
public static class RotationAdminHandlers
{
    /// <param name="Holds">An ISO-8601 duration replacing every hold and the revoke grace (drills, tests).</param>
    public sealed record StartRequest(string? Strategy, string? Reason, string? Holds);

    public static async Task StartAsync(HttpContext context, string name)
    {
        if (await AdminJson.ReadAsync<StartRequest>(context).ConfigureAwait(false) is not { } body)
            return;
        if (!RotationStrategies.TryParse(body.Strategy, out var strategy))
        {
            await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.InvalidRequest, $"'strategy' must be one of: {string.Join(", ", RotationStrategies.Names)}.").ConfigureAwait(false);
            return;
        }
        if (string.IsNullOrWhiteSpace(body.Reason))
        {
            await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.InvalidRequest, "'reason' is required: it goes on the rotation's record and its alerts.").ConfigureAwait(false);
            return;
        }
        TimeSpan? holds = null;
        if (body.Holds is not null)
        {
            if (!RotationPolicy.TryParseDuration(body.Holds, out var parsed))
            {
                await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.InvalidRequest, $"'holds' must be a positive ISO-8601 duration such as \"PT1S\", not {ApiErrors.Quote(body.Holds)}.").ConfigureAwait(false);
                return;
            }
            holds = parsed;
        }

        var starter = context.RequestServices.GetRequiredService<IRotationStarter>();
        var start = await starter.StartAsync(new RotationRequest(name, strategy, body.Reason, holds), context.RequestAborted).ConfigureAwait(false);
        switch (start.Outcome)
        {
            case RotationStartOutcome.KeyNotFound:
                await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.NotFound, $"No provider key named '{name}'.").ConfigureAwait(false);
                return;
            case RotationStartOutcome.AlreadyRunning:
                await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.RotationRunning, start.Rotation is { } running
                    ? $"Rotation '{running.Id}' of '{name}' has not finished; abort it or wait for it."
                    : $"A rotation of '{name}' is still running ({RotationId.InstancePrefix}{name}); wait for it.").ConfigureAwait(false);
                return;
            default:
                await AdminJson.WriteAsync(context, StatusCodes.Status202Accepted,
                    new { id = start.Rotation!.Value.Id, keyName = name, status = RotationStatus.Running.ToString() }).ConfigureAwait(false);
                return;
        }
    }

    public static async Task GetAsync(HttpContext context, string keyName, string id)
    {
        var service = context.RequestServices.GetRequiredService<RotationService>();
        if (await service.GetAsync(new RotationId(keyName, id), context.RequestAborted).ConfigureAwait(false) is not { } record)
        {
            await NotFoundAsync(context, keyName, id).ConfigureAwait(false);
            return;
        }
        var config = await context.RequestServices.GetRequiredService<ProviderKeyRegistry>().GetAsync(keyName, context.RequestAborted).ConfigureAwait(false);
        await AdminJson.WriteAsync(context, StatusCodes.Status200OK, View(record, config?.Weights)).ConfigureAwait(false);
    }

    public static async Task AbortAsync(HttpContext context, string keyName, string id)
    {
        var service = context.RequestServices.GetRequiredService<RotationService>();
        var (outcome, record) = await service.AbortAsync(new RotationId(keyName, id), context.RequestAborted).ConfigureAwait(false);
        switch (outcome)
        {
            case AbortOutcome.NotFound:
                await NotFoundAsync(context, keyName, id).ConfigureAwait(false);
                return;
            case AbortOutcome.AlreadyFinal:
                await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.Conflict, $"Rotation '{id}' already ended {record!.Status}.").ConfigureAwait(false);
                return;
            default:
                await AdminJson.WriteAsync(context, StatusCodes.Status202Accepted,
                    new { id, keyName, status = record!.Status.ToString(), abortRequested = true }).ConfigureAwait(false);
                return;
        }
    }

    private static Task NotFoundAsync(HttpContext context, string keyName, string id) =>
        ApiErrors.WriteAsync(context, FuncKeyOpsErrors.NotFound, $"Provider key '{keyName}' has no rotation '{id}'.");

    private static object View(RotationRecord r, IReadOnlyDictionary<string, int>? weights) => new
    {
        id = r.Id,
        keyName = r.KeyName,
        status = r.Status.ToString(),
        strategy = r.Strategy.ToName(),
        reason = r.Reason,
        trigger = r.Trigger,
        stepIndex = r.StepIndex,
        stepsDone = r.History.Count,
        steps = r.Plan.Steps.Select(s => s.Name),
        nextDue = r.IsFinal ? (DateTimeOffset?)null : r.NextDue,
        waitingFor = r.IsFinal ? null : r.WaitingFor,
        abortRequested = r.AbortRequested,
        oldVersion = r.OldVersion,
        newVersion = r.NewVersion,
        weights = weights ?? new Dictionary<string, int>(),
        windowWithoutKey = r.WindowStart is null ? null : new { start = r.WindowStart, end = r.WindowEnd },
        startedAt = r.StartedAt,
        finishedAt = r.FinishedAt,
        history = r.History.Select(h => new { index = h.Index, step = h.Step, result = h.Result, time = h.Time }),
    };
}
