using Xunit;

namespace KoalaPic.Build.Tests;

/// <summary>
/// For tests that need a system package (libheif's HEVC encoder, poppler, Chromium): outside CI they skip with a plain
/// sentence saying what is missing and how to install it; in CI (CI=true), where .ci/run installs everything, a missing
/// package fails the test instead, so CI never skips silently.
/// </summary>
public static class SystemRequirement
{
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips (or, in CI, fails) unless <paramref name="available"/>. Use in a [SkippableFact] or [SkippableTheory].</summary>
    public static void Require(bool available, string whatIsMissing)
    {
        if (available)
        {
            return;
        }

        if (InCi)
        {
            Assert.Fail($"{whatIsMissing} (CI=true: .ci/run installs it, so this test may not skip).");
        }

        // The runner prints only "[SKIP]" at its default verbosity; this line says why, while the tests run.
        TestLog.Write($"{TestLog.CurrentTestName() ?? "a test"} skipped: {whatIsMissing}");
        Skip.If(true, $"Skipped: {whatIsMissing}");
    }

    /// <summary>The full path of an executable on PATH, or null.</summary>
    public static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
