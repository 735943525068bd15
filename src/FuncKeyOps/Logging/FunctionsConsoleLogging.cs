using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace FuncKeyOps.Logging;

public static class FunctionsConsoleLogging
{
    /// <summary>
    /// For the Functions worker: what is logged outside an invocation (background services) goes to the worker's
    /// console, one line per entry, which the Functions host relays into its own output. What an invocation logs is
    /// left out there: the worker already sends that to the host. Call before <c>AddSecretRedaction</c>.
    /// </summary>
    public static ILoggingBuilder AddConsoleOutsideInvocations(this ILoggingBuilder logging)
    {
        logging.AddSimpleConsole(console => console.SingleLine = true);
        var services = logging.Services;
        for (var i = 0; i < services.Count; i++)
        {
            if (services[i].ServiceType == typeof(ILoggerProvider) && services[i].ImplementationType == typeof(ConsoleLoggerProvider))
            {
                services[i] = ServiceDescriptor.Singleton<ILoggerProvider>(sp =>
                    new OutsideInvocationLoggerProvider(ActivatorUtilities.CreateInstance<ConsoleLoggerProvider>(sp)));
            }
        }
        return logging;
    }
}
