namespace FuncKeyOps.Providers;

/// <summary>
/// What the relay knows about the model a call runs. A relay key with a model allow-list may only make calls whose
/// model is <see cref="Named"/> and listed, or that run <see cref="None"/>.
/// </summary>
public enum ModelScope
{
    /// <summary>The call may run a model the relay cannot see (batches, files, caches, paths it does not know). The default, so a plan that says nothing is refused.</summary>
    Unknown,
    /// <summary><see cref="RequestPlan.Model"/> is the one model the call runs, read from the body or the path.</summary>
    Named,
    /// <summary>The call runs the model its body names, but the body does not name exactly one as a JSON string.</summary>
    Unreadable,
    /// <summary>The call runs no model (listing or reading models).</summary>
    None,
}
