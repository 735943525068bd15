using Azure;
using FuncKeyOps.Secrets;

namespace FuncKeyOps.Admin;

/// <summary>Which exceptions mean "a store did not answer" (so 503, try again) rather than a bug (500).</summary>
internal static class StorageFailure
{
    public static bool Is(Exception e) => e switch
    {
        // Status 0: no response at all (connection refused or reset); 5xx: the service failed.
        RequestFailedException r => r.Status is 0 or >= 500,
        HttpRequestException => true,
        SecretStoreException s => s.IsTransient,
        // The Azure SDK reports exhausted retries as an AggregateException of the attempts' failures.
        AggregateException a => a.InnerExceptions.Count > 0 && a.InnerExceptions.All(Is),
        _ => false,
    };
}
