using FuncKeyOps.Rotation;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>
/// A driver that runs a rotation again from step 0 (a Durable orchestration scheduled again for a row it lost, a
/// restarted host) resumes from the row's state: it never serves again a hold the rotation already served.
/// </summary>
public class RotationResumeTests
{
    [Fact]
    public async Task Steps_asked_again_from_0_answer_the_rows_current_step_and_only_what_is_left_of_its_wait()
    {
        await using var host = await RotationHost.StartAsync();
        var name = await host.RegisterKeyAsync();
        var rotation = await host.StartRotationAsync(name, RotationStrategy.Canary);
        var index = 0;
        TimeSpan lastHold = default;
        while (index < 6) // create, validate, shift 1 % (held), analyze, shift 5 % (held), analyze
        {
            var result = await host.Runner.RunStepAsync(rotation, index, CancellationToken.None);
            host.Time.Advance(result.Wait);
            lastHold = result.Wait > TimeSpan.Zero ? result.Wait : lastHold;
            index = result.NextIndex!.Value;
        }
        Assert.True(lastHold > TimeSpan.Zero);
        var row = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;

        // Re-driven from 0, every step already run points straight at the row's step, with nothing left to wait.
        for (var again = 0; again < row.StepIndex; again++)
        {
            var answer = await host.Runner.RunStepAsync(rotation, again, CancellationToken.None);
            Assert.Equal((row.StepIndex, TimeSpan.Zero), (answer.NextIndex, answer.Wait));
        }

        // Half-way through the current step's hold, a re-drive waits only the other half.
        var next = await host.Runner.RunStepAsync(rotation, row.StepIndex, CancellationToken.None);
        Assert.True(next.Wait > TimeSpan.Zero, $"{next}");
        host.Time.Advance(next.Wait / 2);
        var resumed = await host.Runner.RunStepAsync(rotation, 0, CancellationToken.None);
        Assert.Equal((next.NextIndex, next.Wait - next.Wait / 2), (resumed.NextIndex, resumed.Wait));
    }
}
