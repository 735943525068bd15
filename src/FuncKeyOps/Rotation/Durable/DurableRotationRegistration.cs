using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Rotation.Durable;

public static class DurableRotationRegistration
{
    /// <summary>
    /// Makes <see cref="DurableRotationDriver"/> the host's <see cref="IRotationDriver"/>, replacing any default:
    /// call after <c>AddFuncKeyOps</c>.
    /// </summary>
    public static IServiceCollection AddDurableRotationDriver(this IServiceCollection services, Func<IServiceProvider, DurableTaskClient> client)
    {
        services.RemoveAll<IRotationDriver>();
        services.AddSingleton<IRotationDriver>(sp => new DurableRotationDriver(() => client(sp)));
        return services;
    }
}
