using System.Net;
using FuncKeyOps.RelayKeys;

namespace FuncKeyOps.Tests.RelayKeys;

public class IpAllowListTests
{
    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7/32")]
    [InlineData(" 203.0.113.0/24 ", "203.0.113.0/24")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("2001:db8::1", "2001:db8::1/128")]
    [InlineData("2001:db8::/32", "2001:db8::/32")]
    public void Addresses_and_blocks_parse(string text, string expected)
    {
        Assert.True(IpAllowList.TryParse(text, out var network, out var error), error);
        Assert.Equal(expected, network.ToString());
    }

    [Theory]
    [InlineData("203.0.113.7/24")]
    [InlineData("203.0.113.0/33")]
    [InlineData("2001:db8::/129")]
    [InlineData("203.0.113.0/")]
    [InlineData("/24")]
    [InlineData("example.com")]
    [InlineData("10")]
    [InlineData("10.1/16")]
    [InlineData("2001:db8::1/32")]
    [InlineData("fe80::1%eth0")]
    [InlineData("fe80::%2/64")]
    [InlineData("")]
    [InlineData(null)]
    public void Anything_else_is_refused_with_a_reason(string? text)
    {
        Assert.False(IpAllowList.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void Allows_matches_blocks_including_ipv4_mapped_sources_and_an_empty_list_allows_all()
    {
        IPNetwork[] allowed = [IPNetwork.Parse("10.1.0.0/16"), IPNetwork.Parse("2001:db8::/32")];

        Assert.True(IpAllowList.Allows(allowed, IPAddress.Parse("10.1.200.3")));
        Assert.True(IpAllowList.Allows(allowed, IPAddress.Parse("::ffff:10.1.0.9")));
        Assert.True(IpAllowList.Allows(allowed, IPAddress.Parse("2001:db8:1::5")));
        Assert.False(IpAllowList.Allows(allowed, IPAddress.Parse("10.2.0.1")));
        Assert.False(IpAllowList.Allows(allowed, IPAddress.Parse("2001:db9::1")));
        Assert.False(IpAllowList.Allows(allowed, null));
        Assert.True(IpAllowList.Allows([], IPAddress.Parse("198.51.100.1")));
    }
}
