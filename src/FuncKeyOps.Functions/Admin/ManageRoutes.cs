namespace FuncKeyOps.Functions.Admin;

/// <summary>
/// The Functions host reserves every route starting with "admin" for its own admin API, so the admin calls
/// live under /api/manage here (the Server host serves both /api/admin and /api/manage).
/// </summary>
internal static class ManageRoutes
{
    public const string Prefix = "manage/";
}
