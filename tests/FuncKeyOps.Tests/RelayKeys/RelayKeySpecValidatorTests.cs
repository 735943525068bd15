using FuncKeyOps.RelayKeys;

namespace FuncKeyOps.Tests.RelayKeys;

public class RelayKeySpecValidatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);
    private static readonly RelayKeySpec Valid = new() { Tenant = "contoso", Name = "web" };

    [Fact]
    public void A_valid_spec_is_normalised()
    {
        var key = RelayKeySpecValidator.ToKey(Valid with
        {
            Tenant = "  contoso ",
            Providers = ["OpenAI", "azure-openai", "openai"],
            Models = [" gpt-4o ", "gpt-4o"],
            AllowedIps = ["192.0.2.10", "2001:db8::1", "10.0.0.0/8", "10.0.0.0/8"],
            ExpiresAt = Now.AddDays(30),
            Rpm = 0,
        }, "abcdef123456", Now);

        Assert.Equal("contoso", key.Tenant);
        Assert.Equal(["openai", "azure-openai"], key.Providers);
        Assert.Equal(["gpt-4o"], key.Models);
        Assert.Equal(["192.0.2.10/32", "2001:db8::1/128", "10.0.0.0/8"], key.AllowedIps.Select(n => n.ToString()));
        Assert.Equal((RelayKeyStatus.Active, Now), (key.Status, key.CreatedAt));
    }

    [Fact]
    public void Every_problem_is_reported_at_once_with_a_clear_message()
    {
        var error = Assert.Throws<RelayKeyValidationException>(() => RelayKeySpecValidator.ToKey(new RelayKeySpec
        {
            Tenant = " ",
            Providers = ["openai", "mistral"],
            AllowedIps = ["10.0.0.1/8", "not-an-ip", "300.1.1.1", "10.1"],
            ExpiresAt = Now,
            Rpm = -1,
            DailyTokens = -5,
            MonthlyTokens = -7,
        }, "abcdef123456", Now));

        Assert.Contains("tenant is required.", error.Errors);
        Assert.Contains("name is required.", error.Errors);
        Assert.Contains(error.Errors, e => e.Contains("'mistral' is not a provider; use openai, anthropic, gemini, azure-openai", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("'10.0.0.1/8' is not a valid CIDR block", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("'not-an-ip' is not an IP address", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("'300.1.1.1' is not an IP address", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("'10.1' is not an IP address", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("expiresAt", StringComparison.Ordinal) && e.EndsWith("is not in the future.", StringComparison.Ordinal));
        Assert.Contains("rpm must not be negative.", error.Errors);
        Assert.Contains("dailyTokens must not be negative.", error.Errors);
        Assert.Contains("monthlyTokens must not be negative.", error.Errors);
        Assert.Equal(11, error.Errors.Count);
        Assert.Equal(string.Join(" ", error.Errors), error.Message);
    }

    [Fact]
    public void Long_input_is_not_echoed_whole()
    {
        var pasted = "fko_abcdef123456_" + new string('s', 43);
        var error = Assert.Throws<RelayKeyValidationException>(() =>
            RelayKeySpecValidator.ToKey(Valid with { Providers = [pasted], AllowedIps = [pasted] }, "abcdef123456", Now));
        Assert.DoesNotContain(new string('s', 20), error.Message, StringComparison.Ordinal);
        Assert.Equal(2, error.Errors.Count);
    }

    [Fact]
    public void Empty_and_null_entries_in_lists_are_refused()
    {
        var error = Assert.Throws<RelayKeyValidationException>(() =>
            RelayKeySpecValidator.ToKey(Valid with { Models = ["", null!], AllowedIps = [" "], Providers = [null!] }, "abcdef123456", Now));
        Assert.Equal(4, error.Errors.Count);
    }
}
