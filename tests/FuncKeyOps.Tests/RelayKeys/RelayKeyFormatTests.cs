using System.Buffers.Text;
using FuncKeyOps.RelayKeys;

namespace FuncKeyOps.Tests.RelayKeys;

public class RelayKeyFormatTests
{
    [Fact]
    public void A_composed_key_parses_back_into_its_id_and_secret()
    {
        var id = RelayKeyFormat.NewId();
        var secret = RelayKeyFormat.NewSecret();
        var key = RelayKeyFormat.Compose(id, secret);

        Assert.Matches("^fko_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$", key);
        Assert.Equal(32, Base64Url.DecodeFromChars(secret).Length);
        Assert.True(RelayKeyFormat.TryParse(key, out var parsedId, out var parsedSecret));
        Assert.Equal((id, secret), (parsedId, parsedSecret));
    }

    [Fact]
    public void Ids_and_secrets_are_random()
    {
        Assert.Equal(100, Enumerable.Range(0, 100).Select(_ => RelayKeyFormat.NewId()).Distinct().Count());
        Assert.Equal(100, Enumerable.Range(0, 100).Select(_ => RelayKeyFormat.NewSecret()).Distinct().Count());
    }

    [Fact]
    public void A_secret_containing_underscores_still_parses()
    {
        var secret = "abc_def_" + new string('x', RelayKeyFormat.SecretLength - 8);
        Assert.True(RelayKeyFormat.TryParse("fko_abcdef123456_" + secret, out var id, out var parsed));
        Assert.Equal(("abcdef123456", secret), (id, parsed));
    }

    [Theory]
    [InlineData("sk-proj-abcdefghijklmnopqrstuvwxyz")]
    [InlineData("fko_abcdef123456_tooShort")]
    [InlineData("fko_ABCDEF123456_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("fko_abcdef12345_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("fko_abcdef123456-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("fko_abcdef123456_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=")]
    [InlineData("fko_abcdef123456_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa+")]
    [InlineData("FKO_abcdef123456_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData(" fko_abcdef123456_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void Keys_not_in_the_format_do_not_parse(string presented)
    {
        Assert.False(RelayKeyFormat.TryParse(presented, out _, out _));
    }
}
