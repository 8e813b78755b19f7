using Xunit;
using System.Text.RegularExpressions;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// The job folder has one owner, <see cref="JobLayout"/>: the docs list its names, the targets spell none of them,
/// the record of the last run reads back what was written, and clean holds the project's lock.
/// </summary>
public sealed class JobLayoutTests
{
    private static readonly JobLayout Layout = new("/p/obj/Debug/net10.0/koalapic");

    private static string Read(params string[] path) => File.ReadAllText(Path.Combine(new[] { TestSupport.RepositoryRoot }.Concat(path).ToArray()));

    /// <summary>The names in how-it-works.md's "Files on disk" tree, under Debug/net10.0/koalapic/.</summary>
    private static List<string> DocumentedJobFolderNames()
    {
        string[] lines = Read("docs", "how-it-works.md").Split('\n');
        int start = Array.FindIndex(lines, l => l.Contains("Debug/net10.0/koalapic/", StringComparison.Ordinal));
        Assert.True(start >= 0, "docs/how-it-works.md has no Debug/net10.0/koalapic/ in its Files on disk tree");
        int depth = lines[start].IndexOf("Debug", StringComparison.Ordinal);
        var names = new List<string>();
        for (int i = start + 1; i < lines.Length; i++)
        {
            Match entry = Regex.Match(lines[i], @"^[│ ]*[├└]── (?<name>\S+)");
            if (!entry.Success || entry.Groups["name"].Index <= depth)
            {
                break;
            }

            names.Add(entry.Groups["name"].Value);
        }

        return names;
    }

    [Fact]
    public void HowItWorks_FilesOnDisk_ListsExactlyTheLayoutsNames()
    {
        List<string> documented = DocumentedJobFolderNames();
        string[] layout = Layout.DocumentedNames();

        // Each documented entry is a layout name, or a file inside a layout folder (out/img/photo.webp).
        Assert.All(documented, d => Assert.True(layout.Any(n => d == n || (n.EndsWith('/') && d.StartsWith(n, StringComparison.Ordinal))), $"'{d}' is in the docs but not in JobLayout"));
        Assert.All(layout, n => Assert.True(documented.Any(d => d == n || (n.EndsWith('/') && d.StartsWith(n, StringComparison.Ordinal))), $"JobLayout's '{n}' is not in docs/how-it-works.md"));
    }

    [Fact]
    public void Targets_SpellNoJobFolderName_AndSplitNothing()
    {
        var names = Layout.DocumentedNames().Append(Path.GetFileName(Layout.NeverFile)).Select(n => n.Contains("<hex>", StringComparison.Ordinal) ? n.Substring(0, n.IndexOf("<hex>", StringComparison.Ordinal)) : n).ToList();
        foreach ((string file, string targets) in BuildFiles.All())
        {
            Assert.False(targets.Contains("Split(", StringComparison.Ordinal), $"{file} splits text; take items from PrepareKoalaPicRun");
            foreach (string name in names)
            {
                // A folder as a path segment (out\, /tmp/), a file name as a whole word (state.json, not koalapic-state.json).
                string pattern = name.EndsWith('/')
                    ? @"(?<=[)/\\'""])" + Regex.Escape(name.TrimEnd('/')) + @"[/\\]"
                    : @"(?<![\w.-])" + Regex.Escape(name).Replace("/", @"[/\\]") + (name.EndsWith('.') ? "" : @"(?![\w.-])");
                Assert.False(Regex.IsMatch(targets, pattern), $"{file} spells the job folder's '{name}'; take it from PrepareKoalaPicRun");
            }

            Assert.False(targets.Contains("'koalapic'", StringComparison.Ordinal), $"{file} spells 'koalapic'"); // the job folder and the cache are named by JobLayout, through the task
        }
    }

    [Fact]
    public void Paths_AreInsideTheJobFolder_AndTheDefaultCacheInObj()
    {
        JobLayout layout = JobLayout.For("/p", "obj/Debug/net10.0/");

        Assert.Equal(Path.GetFullPath("/p/obj/Debug/net10.0/koalapic/"), layout.Directory);
        Assert.All(new[] { layout.OutputDirectory, layout.TemporaryDirectory, layout.StateFile, layout.LockFile, layout.ReportFile, layout.ManifestFile, layout.LastRunFile, layout.InputsFile, layout.StampFile, layout.NeverFile, layout.ServedManifestFile, layout.NativesRestoreDirectory, layout.JobFile("0123abcd") },
            p => Assert.StartsWith(layout.Directory, p, StringComparison.Ordinal));
        Assert.Equal(Path.GetFullPath("/p/obj/koalapic/cache/"), JobLayout.DefaultCacheDirectory("/p", "obj/"));
        Assert.Equal(layout.LockFile, BuildLock.PathFor(layout.StateFile));
    }

    [Fact]
    public void LastRun_ReadsBackEveryOutputWarningAndWrittenFile_WithHostileNames()
    {
        using var folder = new TempFolder();
        var layout = new JobLayout(folder.Path);
        var result = new JobResult
        {
            Outputs =
            {
                new JobOutput(Path.Combine(layout.OutputDirectory, "img", "..%2Fa|b;c\n$(x)@(y)*.webp"), "img/..%2Fa|b;c\n$(x)@(y)*.webp", "img/..%2Fa|b;c\n$(x)@(y)*.png", "webp", 10, 20),
                new JobOutput(Path.Combine(layout.OutputDirectory, "logo.svg"), "logo.svg", "logo.svg", "svg", null, null),
            },
            Diagnostics =
            {
                Diagnostic.Warning(DiagnosticCodes.OutputLargerThanSource, "KoalaImage 'a|b': larger", "/p/a|b.png"),
                Diagnostic.Warning(DiagnosticCodes.InvalidQuality, "KoalaImage 'x': at its line", "/p/p.csproj") with { Line = 12, Column = 5 },
                Diagnostic.Error(DiagnosticCodes.CannotDecode, "an error is not replayed", "/p/c.png"),
            },
            WrittenFiles = { "/p/artifacts/report.json" },
            ImageCount = 3,
        };

        LastRun.From(result).Write(layout.LastRunFile);
        LastRun read = LastRun.TryRead(layout.LastRunFile)!;

        Assert.Equal(result.Outputs, read.Outputs);
        Assert.Equal(new[] { result.Diagnostics[0], result.Diagnostics[1] }, read.Warnings);
        Assert.Equal(result.WrittenFiles, read.WrittenFiles);
        Assert.Equal(3, read.ImageCount);
    }

    [Fact]
    public void LastRun_CarriesEveryPropertyOfAnOutputAndADiagnostic()
    {
        // The record is read field by field (LastRun.TryRead): a property added to either type must be added there too,
        // or a skipped build would replay less than the run it skips.
        Assert.Equal(new[] { "File", "Format", "Height", "ItemSpec", "TargetPath", "Width" }, typeof(JobOutput).GetProperties().Select(p => p.Name).Order());
        Assert.Equal(new[] { "Code", "Column", "File", "Line", "Message", "Severity" }, typeof(Diagnostic).GetProperties().Select(p => p.Name).Order());
    }

    [Fact]
    public void LastRun_Unreadable_OrOfAnotherVersion_IsNoRecord()
    {
        using var folder = new TempFolder();
        string file = folder.Combine("last-run.json");

        Assert.Null(LastRun.TryRead(file));
        File.WriteAllText(file, "{ not json");
        Assert.Null(LastRun.TryRead(file));
        File.WriteAllText(file, """{ "version": 999, "outputs": [] }""");
        Assert.Null(LastRun.TryRead(file));
    }

    [Fact]
    public void Clean_WhileABuildHoldsTheLock_DeletesNothing_AndSaysKP3001()
    {
        using var folder = new TempFolder();
        var layout = new JobLayout(folder.Combine("obj", "Debug", "koalapic"));
        string output = Path.Combine(layout.OutputDirectory, "a.webp");
        Directory.CreateDirectory(layout.OutputDirectory);
        File.WriteAllText(output, "x");
        File.WriteAllText(layout.StateFile, "{}");

        List<Diagnostic> diagnostics;
        using (BuildLock.Acquire(layout.LockFile, TimeSpan.Zero, CancellationToken.None))
        {
            diagnostics = JobClean.Run(layout, null, Array.Empty<string>(), "/p/p.csproj", TimeSpan.Zero);
        }

        Assert.Equal(DiagnosticCodes.ConcurrentBuild, Assert.Single(diagnostics).Code);
        Assert.True(File.Exists(output));
        Assert.True(File.Exists(layout.StateFile));
    }

    [Fact]
    public void Clean_RemovesTheJobFolder_TheDefaultCache_TheGivenFiles_AndALinkOnlyAsALink()
    {
        using var folder = new TempFolder();
        using var elsewhere = new TempFolder();
        File.WriteAllText(Path.Combine(elsewhere.Path, "keep.txt"), "not KoalaPic's");
        var layout = new JobLayout(folder.Combine("obj", "Debug", "koalapic"));
        Directory.CreateDirectory(Path.Combine(layout.OutputDirectory, "img"));
        File.WriteAllText(Path.Combine(layout.OutputDirectory, "img", "a.webp"), "x");
        File.WriteAllText(layout.StateFile, "{}");
        // A link planted in the job folder: clean removes it, not what it leads to.
        Directory.CreateSymbolicLink(Path.Combine(layout.OutputDirectory, "linked"), elsewhere.Path);
        string cache = JobLayout.DefaultCacheDirectory(folder.Path, "obj");
        Directory.CreateDirectory(Path.Combine(cache, "3f"));
        File.WriteAllText(Path.Combine(cache, "3f", "3f00.webp"), "x");
        string report = folder.Combine("artifacts", "report.json");
        Directory.CreateDirectory(Path.GetDirectoryName(report)!);
        File.WriteAllText(report, "{}");

        List<Diagnostic> diagnostics = JobClean.Run(layout, cache, new[] { report }, "/p/p.csproj", TimeSpan.Zero);

        Assert.Empty(diagnostics);
        Assert.False(Directory.Exists(layout.Directory));
        Assert.False(Directory.Exists(cache));
        Assert.False(File.Exists(report));
        Assert.Equal("not KoalaPic's", File.ReadAllText(Path.Combine(elsewhere.Path, "keep.txt")));
    }

    [Fact]
    public void Clean_OfACacheThatIsALink_RemovesTheLinkOnly()
    {
        using var folder = new TempFolder();
        using var elsewhere = new TempFolder();
        File.WriteAllText(Path.Combine(elsewhere.Path, "keep.txt"), "not KoalaPic's");
        var layout = new JobLayout(folder.Combine("obj", "Debug", "koalapic"));
        Directory.CreateDirectory(layout.Directory);
        string cache = JobLayout.DefaultCacheDirectory(folder.Path, "obj");
        Directory.CreateDirectory(Path.GetDirectoryName(cache.TrimEnd('/'))!);
        Directory.CreateSymbolicLink(cache.TrimEnd('/'), elsewhere.Path);

        Assert.Empty(JobClean.Run(layout, cache, Array.Empty<string>(), "/p/p.csproj", TimeSpan.Zero));

        Assert.False(Path.Exists(cache.TrimEnd('/')));
        Assert.Equal("not KoalaPic's", File.ReadAllText(Path.Combine(elsewhere.Path, "keep.txt")));
    }
}
