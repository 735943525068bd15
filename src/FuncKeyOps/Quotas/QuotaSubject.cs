using FuncKeyOps.ProviderKeys;
using FuncKeyOps.RelayKeys;

namespace FuncKeyOps.Quotas;

/// <summary>
/// What the usage ledger (<see cref="QuotaGate"/>) counts and limits: a relay key (by its id) or a provider key
/// (<c>pk:{name}</c>; relay key ids are lower-case letters and digits, so the two never meet), with the limits it
/// carries now. The id is the <c>usage</c> table's PartitionKey. A struct: a relay key's request allocates nothing for it.
/// </summary>
/// <param name="CountsDaysAndMonths">
/// Relay keys keep daily and monthly totals (their budgets, and usage reports) even without a limit; a provider key
/// is counted only in minute rows, and only while it has a ceiling.
/// </param>
internal readonly record struct QuotaSubject(string Id, int? Rpm, long? Tpm, long? DailyTokens, long? MonthlyTokens, bool CountsDaysAndMonths)
{
    public const string ProviderKeyPrefix = "pk:";

    public static QuotaSubject Of(RelayKey key) => new(key.Id, key.Rpm, null, key.DailyTokens, key.MonthlyTokens, true);

    public static QuotaSubject Of(ProviderKeyConfig key) => new(ProviderKeyPrefix + key.Name, key.Rpm, key.Tpm, null, null, false);
}
