namespace FuncKeyOps.Relay;

/// <summary>
/// Joins the client's provider path to the provider key's fixed base URL, refusing anything that could leave it:
/// dot segments, encoded slashes/dots/backslashes, backslashes, empty segments, absolute URLs. No SSRF.
/// </summary>
public static class UpstreamPath
{
    private static readonly string[] EncodedEscapes = ["%2e", "%2f", "%5c", "%00"];

    /// <summary>
    /// The request line as the client sent it, before the server decoded and normalised it: no dot segments,
    /// encoded separators or backslashes anywhere (the server may have folded them away before routing).
    /// </summary>
    public static bool IsSafeRawTarget(string? rawTarget)
    {
        if (rawTarget is null)
            return true;
        var pathPart = rawTarget.AsSpan(0, rawTarget.IndexOf('?') is var q and >= 0 ? q : rawTarget.Length);
        if (pathPart.Contains('\\') || pathPart.Contains("/../", StringComparison.Ordinal) || pathPart.Contains("/./", StringComparison.Ordinal)
            || pathPart.EndsWith("/..", StringComparison.Ordinal) || pathPart.EndsWith("/.", StringComparison.Ordinal))
            return false;
        foreach (var escape in EncodedEscapes)
        {
            if (pathPart.Contains(escape, StringComparison.OrdinalIgnoreCase))
                return false;
        }
        return true;
    }

    /// <param name="path">The route's path, as the client wrote it (still percent-encoded).</param>
    /// <param name="query">The query string without credential parameters, starting with '?' or empty.</param>
    public static bool TryBuild(Uri baseUrl, string path, string query, out Uri? upstream)
    {
        upstream = null;
        if (path.Length == 0 || path[0] == '/' || path.Contains('\\') || path.Contains("//", StringComparison.Ordinal)
            || path.Contains("://", StringComparison.Ordinal) || path.Contains('@'))
            return false;
        foreach (var escape in EncodedEscapes)
        {
            if (path.Contains(escape, StringComparison.OrdinalIgnoreCase))
                return false;
        }
        foreach (var segment in path.Split('/'))
        {
            if (segment is "." or "..")
                return false;
        }

        var basePath = baseUrl.AbsolutePath.EndsWith('/') ? baseUrl.AbsolutePath : baseUrl.AbsolutePath + "/";
        var candidate = new UriBuilder(baseUrl.Scheme, baseUrl.Host, baseUrl.Port, basePath + path) { Query = query.TrimStart('?') }.Uri;
        // Belt and braces: whatever Uri normalisation did, the result must still be under the base.
        if (!string.Equals(candidate.Host, baseUrl.Host, StringComparison.OrdinalIgnoreCase) || candidate.Port != baseUrl.Port
            || candidate.Scheme != baseUrl.Scheme || !candidate.AbsolutePath.StartsWith(basePath, StringComparison.Ordinal))
            return false;
        upstream = candidate;
        return true;
    }
}
