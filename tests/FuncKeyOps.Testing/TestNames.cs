namespace FuncKeyOps.Testing;

/// <summary>Unique names per test, so tests that write the same logical tables run in parallel without colliding.</summary>
public static class TestNames
{
    /// <summary>A table prefix: a letter, then 11 lowercase hex digits (valid in a Table Storage name).</summary>
    public static string NewTablePrefix() => "t" + Guid.NewGuid().ToString("N")[..11];

    public static string NewSecretName(string stem = "secret") => $"{stem}-{Guid.NewGuid():N}"[..Math.Min(stem.Length + 13, 127)];
}
