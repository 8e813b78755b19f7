using Xunit;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// The package's MSBuild files (build/, and build/multitargeting/ for buildMultiTargeting/): every *.targets, *.props
/// and *.proj, so that a rule the structure tests hold the targets to holds in whichever file a target moves to.
/// </summary>
internal static class BuildFiles
{
    private static readonly string[] Extensions = { ".targets", ".props", ".proj" };

    /// <summary>Each file's path relative to the repository ("build/KoalaPic.Build.targets") and its text.</summary>
    public static IReadOnlyList<(string Name, string Text)> All()
    {
        string root = TestSupport.RepositoryRoot;
        var files = Directory.EnumerateFiles(Path.Combine(root, "build"), "*", SearchOption.AllDirectories)
            .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.Ordinal))
            .Select(f => (Name: Path.GetRelativePath(root, f).Replace('\\', '/'), Text: File.ReadAllText(f)))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
        Assert.Contains(files, f => f.Name == "build/KoalaPic.Build.targets");
        return files;
    }
}

/// <summary>The package's targets stay readable in one sitting (issue 19): a concern that grows gets its own file.</summary>
public sealed class BuildFilesTests
{
    private const int MaxLines = 250;

    [Fact]
    public void EveryBuildFile_IsAtMost250Lines()
    {
        var tooLong = BuildFiles.All()
            .Select(f => (f.Name, Lines: f.Text.Split('\n').Length - (f.Text.EndsWith('\n') ? 1 : 0)))
            .Where(f => f.Lines > MaxLines)
            .ToList();

        Assert.True(tooLong.Count == 0, "Longer than " + MaxLines + " lines; split the file by concern and import it from build/KoalaPic.Build.targets: "
            + string.Join(", ", tooLong.Select(f => $"{f.Name} ({f.Lines})")));
    }
}
