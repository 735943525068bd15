using Azure;

namespace FuncKeyOps.Storage;

/// <summary>
/// Whether a Table Storage read failed because storage did (so a cache may serve what it last read) rather than
/// with an answer. Any <see cref="RequestFailedException"/> counts: a cache would rather serve its copy through a
/// throttling or authorization fault than fail every relay call at once.
/// </summary>
internal static class StorageReadFailure
{
    public static bool Is(Exception e) => e switch
    {
        RequestFailedException or HttpRequestException => true,
        // The SDK reports exhausted retries as an AggregateException of the attempts' failures.
        AggregateException a => a.InnerExceptions.Count > 0 && a.InnerExceptions.All(Is),
        _ => false,
    };
}
