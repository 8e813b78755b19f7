using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using KoalaPic.Build.Engine;
using KoalaPic.Build.Tests;
using Xunit.Abstractions;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>
/// Hostile sources and settings and a new user's first mistakes, in real builds of a real project against the packed
/// package: FIFOs and device links as images, credentials in a Url, a wildcard that matches nothing, one invalid value
/// on a whole folder, an output larger than its source, a ZIP path written with $(OutDir) in the project file, and a
/// folder in bin/ that is a link to somewhere else. (The package itself was packed with a NUGET_PACKAGES that has no
/// trailing slash: see <see cref="PackageFixture"/>.)
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class HardeningBuildTests : IDisposable
{
    private const string Password = "hunter2-Koala";

    private readonly ITestOutputHelper output;
    private readonly TestProject project;
    private readonly LoopbackHttpServer server = new();

    public HardeningBuildTests(PackageFixture package, ITestOutputHelper output)
    {
        this.output = output;
        project = TestProject.Create(package, "ConsoleApp");
        project.AddImage("Landscape_1.jpg", "img/photo.jpg");
        project.AddImage("flowers.jpeg", "img/flowers.jpg");
        server.Serve("/private/a.jpg", File.ReadAllBytes(Paths.Fixture("concert.jpg")));
    }

    public void Dispose()
    {
        server.Dispose();
        project.Dispose();
    }

    private DotNetResult Build(params string[] arguments)
    {
        var clock = Stopwatch.StartNew();
        DotNetResult result = project.Build(arguments);
        output.WriteLine($"dotnet build: {clock.Elapsed.TotalSeconds:0.0} s, exit {result.ExitCode}");
        output.WriteLine(string.Join("\n", result.KoalaPicLines));
        return result;
    }

    /// <summary>The diagnostic lines of one code in the build log, without MSBuild's closing repeat of them.</summary>
    private static List<string> Lines(DotNetResult result, string code) =>
        result.Output.Split('\n').Select(l => l.Trim())
            .TakeWhile(l => l is not ("Build FAILED." or "Build succeeded."))
            .Where(l => l.Contains($" {code}: ", StringComparison.Ordinal))
            .ToList();

    private static void AssertNoCrash(DotNetResult result)
    {
        Assert.DoesNotContain("MSB4018", result.Output);
        Assert.DoesNotContain("   at ", result.Output);
        Assert.DoesNotContain("KP0003", result.Output);
    }

    private string ObjKoalapic => Path.Combine(project.Directory, "obj", "Debug", "net10.0", "koalapic");

    [SkippableFact]
    public void HostileSourcesAndSettings_EachGetTheirCode_OnlyOnce_AndTheGoodImagesConvert()
    {
        Skip.If(OperatingSystem.IsWindows(), "FIFOs and /dev exist on Unix only");
        Assert.Equal(0, Process.Start("mkfifo", new[] { Path.Combine(project.Directory, "img", "pipe.jpg") })!.WaitForExitAndCode());
        File.CreateSymbolicLink(Path.Combine(project.Directory, "img", "zero.jpg"), "/dev/zero");
        foreach (string name in new[] { "a", "b", "c", "d" })
        {
            project.AddImage("concert.jpg", $"bad/{name}.jpg");
        }

        string secretUrl = server.Url("/private/a.jpg").Replace("http://", $"http://koala:{Password}@", StringComparison.Ordinal);
        project.SetKoalaImages($"""
            <KoalaImage Include="img/*.jpg" Format="webp" Width="320" />
            <KoalaImage Include="typo/*.PNG" Format="webp" />
            <KoalaImage Include="bad/*.jpg" Format="webp" Quality="abc" />
            <KoalaImage Include="img/private.jpg" Url="{secretUrl}" Format="webp" />
            <KoalaImage Include="img/photo.jpg" Format="webp" Link="." />
            """);

        DotNetResult result = Build();

        Assert.False(result.Succeeded);
        AssertNoCrash(result);
        // The FIFO and /dev/zero: refused unopened, naming file and item; the build did not hang or run out of memory.
        Assert.Contains(Lines(result, DiagnosticCodes.NotARegularFile), l => l.Contains("KoalaImage 'img/pipe.jpg'", StringComparison.Ordinal) && l.Contains("FIFO", StringComparison.Ordinal));
        Assert.Contains(Lines(result, DiagnosticCodes.NotARegularFile), l => l.Contains("KoalaImage 'img/zero.jpg'", StringComparison.Ordinal) && l.Contains("/dev/zero", StringComparison.Ordinal));
        // One error for the four files of one definition, one warning for the pattern that matches nothing.
        string quality = Assert.Single(Lines(result, DiagnosticCodes.InvalidQuality));
        Assert.Contains("KoalaImage items 'bad/a.jpg', 'bad/b.jpg', 'bad/c.jpg' and 1 more: Quality=\"abc\"", quality, StringComparison.Ordinal);
        string pattern = Assert.Single(Lines(result, DiagnosticCodes.PatternMatchesNothing));
        Assert.Contains($"{project.ProjectFile}{project.KoalaImageAt("typo/*.PNG")}: warning KP1023: KoalaImage Include=\"typo/*.PNG\" matches no file", pattern, StringComparison.Ordinal);
        Assert.Single(Lines(result, DiagnosticCodes.InvalidLink));
        // Credentials: refused, never sent, and nowhere in the log, the report or anything under obj/.
        Assert.Single(Lines(result, DiagnosticCodes.UrlWithCredentials));
        Assert.Equal(0, server.TotalHits);
        Assert.DoesNotContain(Password, result.Output, StringComparison.Ordinal);
        foreach (string file in Directory.GetFiles(Path.Combine(project.Directory, "obj"), "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain(Password, File.ReadAllText(file), StringComparison.Ordinal);
        }

        // The good images converted all the same (in obj/: a failed build copies nothing to bin/).
        foreach (string name in new[] { "photo", "flowers" })
        {
            Assert.Equal(320, ImageFile.Read(Path.Combine(project.ObjOutputDirectory, "img", name + ".webp")).Width);
        }

        Assert.StartsWith("KoalaPic: 4 images, 2 converted, 0 up to date, 2 failed, ", result.Summary);
    }

    [Fact]
    public void FirstRunMistakes_ZipWithOutDirInTheProject_OutputLargerThanSource_PatternMatchingNothing_StillBuild()
    {
        using (NetVips.Image photo = NetVips.Image.ThumbnailBuffer(File.ReadAllBytes(Paths.Fixture("Landscape_1.jpg")), 300))
        {
            project.WriteFile("img/tight.jpg", photo.JpegsaveBuffer(q: 20));
        }

        project.SetKoalaImages("""
            <KoalaImage Include="img/photo.jpg;img/flowers.jpg" Format="webp" Width="320" />
            <KoalaImage Include="img/tight.jpg" Format="png" />
            <KoalaImage Include="icons/*.svg" Format="png" />
            """);
        // As users write it: in the project file, where MSBuild has not defined OutDir yet.
        project.SetProperty("KoalaPicZipPath", "$(OutDir)images.zip");

        DotNetResult result = Build();

        Assert.True(result.Succeeded, result.ToString());
        AssertNoCrash(result);
        string larger = Assert.Single(Lines(result, DiagnosticCodes.OutputLargerThanSource));
        Assert.Contains("warning KP2013: KoalaImage 'img/tight.jpg': the png output 'img/tight.png' is larger than its source", larger, StringComparison.Ordinal);
        Assert.Single(Lines(result, DiagnosticCodes.PatternMatchesNothing));
        Assert.StartsWith("KoalaPic: 3 images, 3 converted, ", result.Summary);

        using (JsonDocument report = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(ObjKoalapic, "report.json"))))
        {
            var items = report.RootElement.GetProperty("items").EnumerateArray().ToList();
            Assert.Equal(new[] { false, false, true }, items.Select(i => i.GetProperty("larger_than_source").GetBoolean()));
        }

        string zip = Path.Combine(project.BinDirectory, "images.zip");
        Assert.True(File.Exists(zip), "no ZIP beside the build output");
        Assert.False(File.Exists(Path.Combine(project.Directory, "images.zip")));
        using (ZipArchive archive = ZipFile.OpenRead(zip))
        {
            Assert.Equal(new[] { "img/flowers.webp", "img/photo.webp", "img/tight.png" }, archive.Entries.Select(e => e.FullName).OrderBy(n => n, StringComparer.Ordinal));
        }

        // The warnings are there on a no-op build too: a warning that vanishes when nothing changed is easy to miss.
        DotNetResult again = Build();
        Assert.Single(Lines(again, DiagnosticCodes.OutputLargerThanSource));
        Assert.StartsWith("KoalaPic: 3 images, 0 converted, 3 up to date", again.Summary);
    }

    [SkippableFact]
    public void FolderInBinLinkedOutside_NothingIsCopiedOrDeletedThroughIt_KP3002()
    {
        Skip.If(OperatingSystem.IsWindows(), "symbolic links need privileges on Windows");
        project.SetKoalaImages("""
            <KoalaImage Include="img/photo.jpg" Format="webp" Width="320" />
            <KoalaImage Include="img/flowers.jpg" Format="webp" Width="320" Link="gallery/flowers.webp" />
            """);
        Assert.True(Build().Succeeded);

        // Someone (a script, a checkout) replaces bin/…/img with a link to a folder of precious files.
        string precious = Path.Combine(project.Directory, "..", Path.GetFileName(project.Directory) + "-precious");
        Directory.CreateDirectory(precious);
        File.WriteAllText(Path.Combine(precious, "photo.webp"), "not KoalaPic's");
        Directory.Delete(Path.Combine(project.BinDirectory, "img"), recursive: true);
        Directory.CreateSymbolicLink(Path.Combine(project.BinDirectory, "img"), precious);
        try
        {
            DotNetResult result = Build();

            Assert.False(result.Succeeded);
            AssertNoCrash(result);
            string refused = Assert.Single(Lines(result, DiagnosticCodes.OutputThroughLink));
            Assert.Contains("KoalaImage 'img/photo.jpg'", refused, StringComparison.Ordinal);
            Assert.Equal(new[] { "photo.webp" }, Directory.GetFiles(precious).Select(Path.GetFileName));
            Assert.Equal("not KoalaPic's", File.ReadAllText(Path.Combine(precious, "photo.webp")));
            Assert.Equal(320, ImageFile.Read(Path.Combine(project.ObjOutputDirectory, "gallery", "flowers.webp")).Width);
        }
        finally
        {
            Directory.Delete(precious, recursive: true);
        }
    }
}
