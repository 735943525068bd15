using System.Security.Cryptography;
using System.Text;
using FuncKeyOps.Secrets;

namespace FuncKeyOps.Rotation.Connectors.AzureOpenAI;

/// <summary>
/// What makes the azure-openai create crash-safe: before regenerating a slot, the connector writes to Key Vault which
/// rotation regenerates which slot and a SHA-256 fingerprint of the slot's value before it. A re-run of the same rotation
/// that finds the slot's value no longer matching the fingerprint knows its regeneration happened and reads the new value
/// instead of regenerating again; a matching value means the crash came before the regeneration, which then runs.
/// </summary>
/// <remarks>
/// Kept in a secret of its own (<c>{secretName}-slot-regen</c>), not in the provider key's secret, whose versions are the
/// keys the relay routes to. The fingerprint is of a 256-bit random key, so it reveals nothing usable about it.
/// </remarks>
internal sealed class SlotRegenerationMarker(ISecretStore secrets)
{
    private const string RotationTag = "rotationId";
    private const string SlotTag = "slot";

    public sealed record Entry(string RotationId, string Slot, string Fingerprint);

    public static string SecretNameFor(string providerKeySecret) => providerKeySecret + "-slot-regen";

    public static string Fingerprint(string? value) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value ?? "")));

    public async Task<Entry?> ReadAsync(string providerKeySecret, CancellationToken ct)
    {
        try
        {
            var latest = await secrets.GetAsync(SecretNameFor(providerKeySecret), cancellationToken: ct);
            return latest.Info.Tags.TryGetValue(RotationTag, out var rotation) && latest.Info.Tags.TryGetValue(SlotTag, out var slot)
                ? new Entry(rotation, slot, latest.Value)
                : null;
        }
        catch (SecretNotFoundException)
        {
            return null;
        }
    }

    public Task WriteAsync(string providerKeySecret, Entry entry, CancellationToken ct) =>
        secrets.SetAsync(SecretNameFor(providerKeySecret), entry.Fingerprint,
            new Dictionary<string, string> { [RotationTag] = entry.RotationId, [SlotTag] = entry.Slot }, ct);
}
