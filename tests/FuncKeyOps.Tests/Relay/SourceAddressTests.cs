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
