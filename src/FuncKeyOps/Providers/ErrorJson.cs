using System.Buffers;
using System.Text.Json;

namespace FuncKeyOps.Providers;

/// <summary>Writes a small error body with <see cref="Utf8JsonWriter"/>, so messages are always escaped.</summary>
internal static class ErrorJson
{
    public static byte[] Write<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer, state);
        }
        return buffer.WrittenSpan.ToArray();
    }
}
