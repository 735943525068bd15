using System.Text.Json.Serialization;

namespace FuncKeyOps.Audit;

/// <summary>The spill's line format: an <see cref="AuditRecord"/> as System.Text.Json writes it, nulls left out.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AuditRecord))]
internal sealed partial class AuditSpillJson : JsonSerializerContext;
