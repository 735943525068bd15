using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Relay;

/// <summary>
/// A body the relay read whole and found malformed: a 400 like Kestrel's own <see cref="BadHttpRequestException"/>,
/// handled in the same place, except that the client is known to be still there to read the answer.
/// </summary>
internal sealed class MalformedBodyException(string message) : BadHttpRequestException(message, StatusCodes.Status400BadRequest);
