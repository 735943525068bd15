using System.Net;

namespace FuncKeyOps.Tests.Relay;

/// <summary>The Server host serves the admin API under /api/admin and /api/manage (the Functions host's path), always behind the admin key.</summary>
public class AdminRoutesTests
{
    [Theory]
    [InlineData("api/admin/relay-keys")]
    [InlineData("api/manage/relay-keys")]
    [InlineData("api/admin/provider-keys")]
    [InlineData("api/manage/provider-keys")]
    [InlineData("api/admin/audit")]
    [InlineData("api/manage/audit")]
    [InlineData("api/admin/admin-events")]
    [InlineData("api/manage/admin-events")]
    public async Task Every_admin_route_needs_the_admin_key(string path)
    {
        await using var host = await RelayHost.StartAsync();
        using (var anonymous = await host.Client.GetAsync(path))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("x-fko-admin-key", RelayHost.AdminKey);
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
