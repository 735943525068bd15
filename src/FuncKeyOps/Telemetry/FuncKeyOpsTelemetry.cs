using System.Diagnostics;

namespace FuncKeyOps.Telemetry;

/// <summary>
/// The names the library's spans and metrics go out under, for the hosts' exporters to subscribe to. The
/// <see cref="ActivitySource"/> is static, as the .NET guidance has it: one per library, alive as long as the process.
/// </summary>
public static class FuncKeyOpsTelemetry
{
    public const string ServiceName = "FuncKeyOps";

    /// <summary>Spans: one per relay call, one per rotation step.</summary>
    public static readonly ActivitySource Source = new(ServiceName);

    /// <summary>The relay's meter (<see cref="RelayTelemetry"/>) and the audit writer's, which already had its own.</summary>
    public static readonly IReadOnlyList<string> MeterNames = [ServiceName, Audit.AuditWriter.MeterName];
}
