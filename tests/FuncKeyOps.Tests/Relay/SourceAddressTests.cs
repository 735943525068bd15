using System.Net;
using FuncKeyOps.Relay;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Tests.Relay;

public class SourceAddressTests
{
    private static HttpContext Request(string peer, params string[] forwardedFor)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        if (forwardedFor.Length > 0)
            context.Request.Headers["X-Forwarded-For"] = forwardedFor;
        return context;
    }

    private static readonly SourceAddress Trusting = SourceAddress.From(["10.0.0.0/8", "192.168.1.5"]);

    [Fact]
    public void The_peer_is_the_source_when_no_proxy_is_trusted()
    {
        Assert.Equal("203.0.113.7", SourceAddress.From([]).Resolve(Request("203.0.113.7", "1.2.3.4"))!.ToString());
    }

    /// <summary>
    /// What the Functions worker receives from its host (measured under ../shared/functions-host): the host replaces any
    /// X-Forwarded-For with its own TCP peer, and the worker's ASP.NET Core integration applies that (the peer is its
    /// loopback host), so the connection's address is already the host's peer, X-Forwarded-For is gone and the hop it
    /// replaced is in X-Original-For. The source is that peer whatever Relay:TrustedProxies says; X-Original-For is
    /// never believed.
    /// </summary>
    [Theory]
    [InlineData("203.0.113.7")]
    [InlineData("127.0.0.1")] // a local client of a local host: loopback trusted or not, nothing else to believe
    public void Under_the_Functions_host_the_source_is_the_hosts_peer_and_X_Original_For_is_ignored(string hostPeer)
    {
        var context = Request(hostPeer);
        context.Request.Headers["X-Original-For"] = "127.0.0.1:57060";
        context.Request.Headers["X-Original-Host"] = "localhost:35193";
        context.Request.Headers["X-Original-Proto"] = "http";

        Assert.Equal(hostPeer, SourceAddress.From([]).Resolve(context)!.ToString());
        Assert.Equal(hostPeer, SourceAddress.From(["127.0.0.0/8", "::1"]).Resolve(context)!.ToString());
    }

    [Fact]
    public void A_spoofed_header_from_an_untrusted_peer_is_ignored()
    {
        Assert.Equal("203.0.113.7", Trusting.Resolve(Request("203.0.113.7", "10.1.1.1, 1.2.3.4"))!.ToString());
    }

    [Fact]
    public void Behind_a_trusted_proxy_the_right_most_untrusted_entry_is_the_source()
    {
        // The client prepended a fake entry; only what the trusted proxies appended counts.
        Assert.Equal("198.51.100.9", Trusting.Resolve(Request("10.0.0.4", "6.6.6.6, 198.51.100.9, 10.2.2.2"))!.ToString());
        Assert.Equal("198.51.100.9", Trusting.Resolve(Request("192.168.1.5", "6.6.6.6", "198.51.100.9:4711"))!.ToString());
    }

    [Fact]
    public void Ipv4_mapped_peers_and_garbage_chains_fall_back_to_the_peer()
    {
        Assert.Equal("10.0.0.4", Trusting.Resolve(Request("::ffff:10.0.0.4", "not-an-ip"))!.ToString());
        Assert.Equal("10.0.0.4", Trusting.Resolve(Request("10.0.0.4"))!.ToString());
    }
}
