using System.Text.Json;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>
/// What a team's CI sees, with the real dotnet CLI: image budgets as warnings (fatal with WarningsAsErrors, and again
/// on a build that skips the converter), the Markdown summary in GITHUB_STEP_SUMMARY and KoalaPicSummaryPath, and
/// docs/ci.md's recipe: a fresh clone with only the carried KoalaPicCacheDir converts nothing.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class TeamCiBuildTests : IDisposable
{
    private readonly PackageFixture package;
    private readonly TestProject project;
    private readonly List<string> folders = new();

    public TeamCiBuildTests(PackageFixture package)
    {
        this.package = package;
        project = TestProject.Create(package, "ConsoleApp");
        project.AddImage("Landscape_1.jpg", "img/landscape.jpg");
        project.AddImage("concert.jpg", "img/concert.jpg");
    }

    public void Dispose()
    {
        project.Dispose();
        foreach (string folder in folders.Where(Directory.Exists))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private string ReportFile(TestProject p) => Path.Combine(p.Directory, "obj", "Debug", "net10.0", "koalapic", "report.json");

    private string NewFolder(string name)
    {
        string folder = Directory.CreateTempSubdirectory("koalapic-" + name + "-").FullName;
        folders.Add(folder);
        return folder;
    }

    [Fact]
    public void Budgets_WarnNamingOutputSizeBudgetAndItem_AgainOnANoOpBuild_AndFailTheBuildWithWarningsAsErrors()
    {
        project.SetKoalaImages("""<KoalaImage Include="img/*.jpg" Format="webp" Width="300" MaxBytes="1KB" />""");
        project.SetProperty("KoalaPicMaxTotalBytes", "2KB");

        DotNetResult first = project.Build();

        Assert.True(first.Succeeded, first.ToString());
        string over = Assert.Single(first.Output.Split('\n').Where(l => l.Contains("warning KP5003", StringComparison.Ordinal)).Select(l => l.Trim()).Distinct());
        Assert.Contains(": warning KP5003: 2 outputs of KoalaImage Include=\"img/*.jpg\" are over their MaxBytes budget of 1 KB (1,000 bytes) (", over);
        Assert.Contains("img/concert.webp: ", over);
        Assert.Contains("img/landscape.webp: ", over);
        Assert.Contains("warning KP5004: KoalaPic: the 2 outputs total ", first.Output);
        Assert.Contains("over KoalaPicMaxTotalBytes of 2 KB (2,000 bytes)", first.Output);

        using (JsonDocument report = JsonDocument.Parse(File.ReadAllBytes(ReportFile(project))))
        {
            JsonElement root = report.RootElement;
            Assert.Equal(2000, root.GetProperty("max_total_bytes").GetInt64());
            Assert.True(root.GetProperty("over_total_budget").GetBoolean());
            long delivered = Directory.GetFiles(Path.Combine(project.BinDirectory, "img"), "*.webp").Sum(f => new FileInfo(f).Length);
            Assert.Equal(delivered, root.GetProperty("total_bytes").GetInt64());
            Assert.All(root.GetProperty("items").EnumerateArray(), item =>
            {
                Assert.Equal(1000, item.GetProperty("max_bytes").GetInt64());
                Assert.True(item.GetProperty("over_budget").GetBoolean());
                Assert.True(item.GetProperty("bytes_out").GetInt64() > 1000);
            });
        }

        // Nothing changed: the converter is skipped, and the budget warnings come again from the last run.
        DotNetResult noOp = project.Build();
        Assert.True(noOp.Succeeded, noOp.ToString());
        Assert.Equal("KoalaPic: 2 images, 0 converted, 2 up to date, nothing to convert (nothing changed since the last build)", noOp.Summary);
        Assert.Contains("warning KP5003", noOp.Output);
        Assert.Contains("warning KP5004", noOp.Output);

        // A team makes budgets fatal with MSBuild's own WarningsAsErrors, also on the build after.
        project.SetProperty("WarningsAsErrors", "$(WarningsAsErrors);KP5003;KP5004");
        DotNetResult fatal = project.Build();
        Assert.False(fatal.Succeeded, fatal.ToString());
        Assert.Contains("error KP5003", fatal.Output);
        Assert.Contains("error KP5004", fatal.Output);
        DotNetResult fatalAgain = project.Build();
        Assert.False(fatalAgain.Succeeded, fatalAgain.ToString());
        Assert.Contains("error KP5003", fatalAgain.Output);

        // Within budget: no warning.
        project.SetKoalaImages("""<KoalaImage Include="img/*.jpg" Format="webp" Width="300" MaxBytes="1MB" />""");
        project.SetProperty("KoalaPicMaxTotalBytes", "10MB");
        DotNetResult within = project.Build();
        Assert.True(within.Succeeded, within.ToString());
        Assert.DoesNotContain("KP5003", within.Output);
        Assert.DoesNotContain("KP5004", within.Output);
    }

    [Fact]
    public void StepSummary_IsAppendedToGitHubsFileAndKoalaPicSummaryPath_WithoutLocalPaths()
    {
        project.SetKoalaImages("""<KoalaImage Include="img/*.jpg" Format="webp" Width="300" MaxBytes="1KB" />""");
        project.SetProperty("KoalaPicSummaryPath", "artifacts/koalapic-summary.md");
        string stepSummary = Path.Combine(NewFolder("step-summary"), "step_summary_1");
        File.WriteAllText(stepSummary, "# Earlier step\n");
        var environment = new Dictionary<string, string>(package.Environment) { ["GITHUB_STEP_SUMMARY"] = stepSummary };

        DotNetResult result = DotNet.Run(project.Directory, environment, "build", project.ProjectFile, "-nodeReuse:false");

        Assert.True(result.Succeeded, result.ToString());
        string markdown = File.ReadAllText(stepSummary);
        Assert.StartsWith("# Earlier step\n\n### KoalaPic: ConsoleApp.csproj\n", markdown);
        string[] lines = markdown.Split('\n');
        Assert.Contains("| Images | Sources | Outputs | Saving | Converted | Local cache hits | Remote cache hits | Up to date | Failed |", lines);
        Assert.Contains(lines, l => l.StartsWith("| 2 | ", StringComparison.Ordinal) && l.EndsWith(" | 2 | 0 | 0 | 0 | 0 |", StringComparison.Ordinal));
        Assert.Contains("**2 outputs over its `MaxBytes`**", markdown);
        Assert.Contains(lines, l => l.StartsWith("| img/concert.webp | webp | ", StringComparison.Ordinal) && l.EndsWith(" | img/concert.jpg |", StringComparison.Ordinal));
        Assert.DoesNotContain(project.Directory, markdown);
        Assert.DoesNotContain(Path.GetTempPath(), markdown);
        Assert.Equal(markdown.Substring("# Earlier step\n".Length), File.ReadAllText(Path.Combine(project.Directory, "artifacts", "koalapic-summary.md")));
    }

    /// <summary>docs/ci.md played out: only KoalaPicCacheDir is carried from one CI run to the next, fresh clone.</summary>
    [Fact]
    public void FreshClone_WithOnlyTheCarriedCacheFolder_ConvertsNothing_AndEveryOutputIsByteIdentical()
    {
        string cache = Path.Combine(NewFolder("ci-cache"), "koalapic");
        project.AddImage("alpha-layer-1-fill.png", "img/logo.png");
        project.SetKoalaImages("""
            <KoalaImage Include="img/*.jpg" Format="avif;webp" Widths="200;400" />
            <KoalaImage Include="img/*.png" Format="webp" />
            """);
        project.SetProperty("KoalaPicCacheDir", cache);

        DotNetResult first = project.Build();
        Assert.True(first.Succeeded, first.ToString());
        Assert.StartsWith("KoalaPic: 9 images, 9 converted, ", first.Summary);
        var outputs = Directory.GetFiles(project.BinDirectory, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".avif", StringComparison.Ordinal) || f.EndsWith(".webp", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(project.BinDirectory, f), File.ReadAllBytes);
        Assert.Equal(9, outputs.Count);

        // The CI run ends; the next one restores the cache folder (actions/cache, Cache@2, cache:) into a fresh clone.
        string restored = Path.Combine(NewFolder("ci-cache-restored"), "koalapic");
        CopyDirectory(cache, restored);
        using TestProject clone = TestProject.Create(package, "ConsoleApp");
        CopySources(project.Directory, clone.Directory);
        clone.SetProperty("KoalaPicCacheDir", restored);
        project.Dispose(); // nothing of the first clone is left but the carried cache

        DotNetResult second = clone.Build();

        Assert.True(second.Succeeded, second.ToString());
        Assert.StartsWith("KoalaPic: 9 images, 0 converted, 9 up to date, ", second.Summary);
        using (JsonDocument report = JsonDocument.Parse(File.ReadAllBytes(ReportFile(clone))))
        {
            Assert.All(report.RootElement.GetProperty("items").EnumerateArray(), item => Assert.Equal("from_cache", item.GetProperty("status").GetString()));
        }

        foreach (var (relative, bytes) in outputs)
        {
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(clone.BinDirectory, relative))), relative + " differs in the clone");
        }
    }

    /// <summary>A clone's files: everything but bin/ and obj/ (and the nuget.config the test project writes itself).</summary>
    private static void CopySources(string from, string to)
    {
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(from, file);
            string top = relative.Split(Path.DirectorySeparatorChar)[0];
            if (top is "bin" or "obj" or "nuget.config")
            {
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(to, relative))!);
            File.Copy(file, Path.Combine(to, relative), overwrite: true);
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
