namespace FuncKeyOps.Rotation.Connectors;

/// <summary>
/// A provider admin call that did not succeed: its status (0 when no answer came) and the provider's error code word.
/// The message is built by <see cref="ConnectorFailure.Describe"/> and never holds a body, a credential or a key.
/// </summary>
internal sealed class ProviderCallException(string connector, string operation, int status, string? providerCode = null, Exception? inner = null)
    : Exception(ConnectorFailure.Describe(connector, operation, status, providerCode), inner)
{
    public int Status { get; } = status;
    public string? ProviderCode { get; } = providerCode;
    public bool Transient => ConnectorFailure.IsTransient(Status);
}
