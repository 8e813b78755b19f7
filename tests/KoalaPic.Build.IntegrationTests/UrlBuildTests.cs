using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using KoalaPic.Build.Engine;
using KoalaPic.Build.Tests;
using Xunit.Abstractions;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>
/// The rest of the KoalaPic API tried as a new user would, with the real dotnet CLI against a web server on loopback:
/// images from pinned URLs land in bin/, a second build downloads nothing, a wrong hash fails showing both hashes,
/// an offline build works from the cache and names what is missing, report.json lists every item, and the ZIP of all
/// outputs holds every output and has the same bytes after two clean builds.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class UrlBuildTests : IDisposable
{
    private readonly ITestOutputHelper output;
    private readonly LoopbackHttpServer server = new();
    private readonly TestProject project;
    private readonly byte[] concert = File.ReadAllBytes(Paths.Fixture("concert.jpg"));
    private readonly byte[] flowers = File.ReadAllBytes(Paths.Fixture("flowers.jpeg"));

    public UrlBuildTests(PackageFixture package, ITestOutputHelper output)
    {
        this.output = output;
        project = TestProject.Create(package, "ConsoleApp");
        project.AddImage("Landscape_1.jpg", "img/local.jpg");
        server.Serve("/photos/concert.jpg", concert);
        server.Serve("/photos/flowers.jpeg", flowers);
    }

    public void Dispose()
    {
        server.Dispose();
        project.Dispose();
    }

    private static string Sha256Of(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    private string ConcertUrl => server.Url("/photos/concert.jpg");

    private string FlowersUrl => server.Url("/photos/flowers.jpeg");

    private string Bin(string relative) => Path.Combine(project.BinDirectory, relative);

    private string ReportFile => Path.Combine(project.Directory, "obj", "Debug", "net10.0", "koalapic", "report.json");

    private string ZipFile => Bin("images.zip");

    /// <summary>A local photo and two pinned URLs, one of them linked elsewhere and to another format.</summary>
    private void UsePinnedItems(string? concertSha256 = null) => project.SetKoalaImages($"""
        <KoalaImage Include="img/local.jpg" Format="webp" Width="400" />
        <KoalaImage Include="img/hero.jpg" Url="{ConcertUrl}" Sha256="{concertSha256 ?? Sha256Of(concert)}" Format="webp" Width="400" />
        <KoalaImage Include="img/flowers.jpeg" Url="{FlowersUrl}" Sha256="{Sha256Of(flowers)}" Format="avif" Width="300" Link="gallery/flowers.avif" />
        """);

    private DotNetResult Build(params string[] arguments)
    {
        // Normal verbosity: the "KoalaPic: downloaded …" lines are normal-importance messages.
        DotNetResult result = project.Build(arguments.Append("-v:n").ToArray());
        output.WriteLine($"dotnet build {string.Join(' ', arguments)}: exit {result.ExitCode}");
        foreach (string line in result.KoalaPicLines)
        {
            output.WriteLine(line);
        }

        return result;
    }

    private DotNetResult BuildOk(params string[] arguments)
    {
        DotNetResult result = Build(arguments);
        Assert.True(result.Succeeded, result.ToString());
        Assert.DoesNotContain("MSB4018", result.Output);
        return result;
    }

    /// <summary>The one log line with this text, before MSBuild's closing summary repeats the diagnostics.</summary>
    private static string LineWith(DotNetResult result, string text) =>
        Assert.Single(
            result.Output.Split('\n').Select(l => l.Trim()).TakeWhile(l => l is not ("Build FAILED." or "Build succeeded.")),
            l => l.Contains(text, StringComparison.Ordinal));

    private static JsonElement ReadJson(string path) => JsonDocument.Parse(File.ReadAllBytes(path)).RootElement;

    private static JsonElement ItemOf(JsonElement report, string item) =>
        report.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("item").GetString() == item);

    private static Dictionary<string, byte[]> ZipContents(string path)
    {
        using ZipArchive zip = System.IO.Compression.ZipFile.OpenRead(path);
        return zip.Entries.ToDictionary(e => e.FullName, e =>
        {
            using var content = new MemoryStream();
            using (Stream stream = e.Open())
            {
                stream.CopyTo(content);
            }

            return content.ToArray();
        });
    }

    [Fact]
    public void PinnedUrls_LandInBin_SecondBuildDownloadsNothing_ReportAndZipAreRight_ZipIdenticalAfterCleanBuilds()
    {
        UsePinnedItems();
        // $(OutDir) is defined after the project file's body, so the ZIP's path goes in Directory.Build.targets (as documented).
        File.WriteAllText(Path.Combine(project.Directory, "Directory.Build.targets"), """
            <Project>
              <PropertyGroup>
                <KoalaPicZipPath>$(OutDir)images.zip</KoalaPicZipPath>
              </PropertyGroup>
            </Project>
            """);
        project.SetProperty("KoalaPicReportPath", "$(MSBuildProjectDirectory)/artifacts/koalapic-report.json");

        // First build: both URLs downloaded once each, converted, copied to bin/.
        DotNetResult first = BuildOk();
        Assert.StartsWith("KoalaPic: 3 images, 3 converted, 0 up to date, ", first.Summary);
        Assert.Equal(1, server.Hits("/photos/concert.jpg"));
        Assert.Equal(1, server.Hits("/photos/flowers.jpeg"));
        Assert.Contains(first.KoalaPicLines, l => l.StartsWith("KoalaPic: downloaded " + ConcertUrl, StringComparison.Ordinal));
        Assert.DoesNotContain("KP4004", first.Output); // pinned: no warning
        ImageFile hero = ImageFile.Read(Bin("img/hero.webp"));
        Assert.Equal(("VipsForeignLoadWebpBuffer", 400), (hero.Loader, hero.Width));
        ImageFile gallery = ImageFile.Read(Bin("gallery/flowers.avif"));
        Assert.Equal(("VipsForeignLoadHeifBuffer", 300), (gallery.Loader, gallery.Width));
        Assert.Equal(400, ImageFile.Read(Bin("img/local.webp")).Width);

        // The report, in obj/ and where KoalaPicReportPath says, lists every item with the right facts.
        JsonElement report = ReadJson(ReportFile);
        Assert.Equal(File.ReadAllBytes(ReportFile), File.ReadAllBytes(Path.Combine(project.Directory, "artifacts", "koalapic-report.json")));
        Assert.Equal("completed", report.GetProperty("status").GetString());
        Assert.Equal((3, 3, 0, 0, 2), (report.GetProperty("total_files").GetInt32(), report.GetProperty("completed_files").GetInt32(),
            report.GetProperty("failed_files").GetInt32(), report.GetProperty("skipped_files").GetInt32(), report.GetProperty("downloaded_files").GetInt32()));
        Assert.Equal(project.ProjectFile, report.GetProperty("project").GetString());
        Assert.Equal(new[] { "img/local.jpg", "img/hero.jpg", "img/flowers.jpeg" }, report.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("item").GetString()));
        var expected = new (string Item, string Source, string? Sha256, string Output, string Format, ImageFile Decoded, long BytesIn)[]
        {
            ("img/local.jpg", Path.Combine(project.Directory, "img", "local.jpg"), null, "img/local.webp", "webp", ImageFile.Read(Bin("img/local.webp")), new FileInfo(Paths.Fixture("Landscape_1.jpg")).Length),
            ("img/hero.jpg", ConcertUrl, Sha256Of(concert), "img/hero.webp", "webp", hero, concert.Length),
            ("img/flowers.jpeg", FlowersUrl, Sha256Of(flowers), "gallery/flowers.avif", "avif", gallery, flowers.Length),
        };
        foreach (var e in expected)
        {
            JsonElement item = ItemOf(report, e.Item);
            Assert.Equal(e.Source, item.GetProperty("source").GetString());
            Assert.Equal(e.Sha256, item.GetProperty("source_sha256").GetString());
            Assert.Equal(e.Sha256 != null, item.GetProperty("downloaded").GetBoolean());
            Assert.Equal(e.Output, item.GetProperty("output").GetString());
            Assert.Equal(e.Format, item.GetProperty("format").GetString());
            Assert.Equal(e.Decoded.Width, item.GetProperty("width").GetInt32());
            Assert.Equal(e.Decoded.Height, item.GetProperty("height").GetInt32());
            Assert.Equal(e.BytesIn, item.GetProperty("bytes_in").GetInt64());
            Assert.Equal(new FileInfo(Bin(e.Output)).Length, item.GetProperty("bytes_out").GetInt64());
            Assert.Equal(ConversionOptions.DefaultQuality, item.GetProperty("quality").GetInt32());
            Assert.Equal("converted", item.GetProperty("status").GetString());
            Assert.False(item.GetProperty("from_cache").GetBoolean());
            Assert.Equal(JsonValueKind.Null, item.GetProperty("error").ValueKind);
        }

        // The ZIP holds every output at its path in bin/, with the bytes in bin/.
        Dictionary<string, byte[]> zip = ZipContents(ZipFile);
        Assert.Equal(new[] { "gallery/flowers.avif", "img/hero.webp", "img/local.webp" }, zip.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (entry, bytes) in zip)
        {
            Assert.Equal(File.ReadAllBytes(Bin(entry)), bytes);
        }

        byte[] firstZip = File.ReadAllBytes(ZipFile);
        DateTime zipTime = File.GetLastWriteTimeUtc(ZipFile);

        // Second build: nothing changed, so the converter target is skipped (pinned Urls do not make it run).
        int hits = server.TotalHits;
        DateTime reportTime = File.GetLastWriteTimeUtc(ReportFile);
        DotNetResult skipped = BuildOk();
        Assert.StartsWith("KoalaPic: 3 images, 0 converted, 3 up to date, nothing changed since the last build", skipped.Summary);
        Assert.Equal(hits, server.TotalHits);
        Assert.Equal(reportTime, File.GetLastWriteTimeUtc(ReportFile));

        // The engine's own check (KoalaPicIncremental=false runs it): nothing downloaded, nothing converted, the ZIP left alone.
        DotNetResult second = BuildOk("-p:KoalaPicIncremental=false");
        Assert.StartsWith("KoalaPic: 3 images, 0 converted, 3 up to date, ", second.Summary);
        Assert.Equal(hits, server.TotalHits);
        Assert.DoesNotContain(second.KoalaPicLines, l => l.StartsWith("KoalaPic: downloaded", StringComparison.Ordinal));
        Assert.Equal(zipTime, File.GetLastWriteTimeUtc(ZipFile));
        JsonElement again = ReadJson(ReportFile);
        Assert.Equal((3, 0, 3, 0), (again.GetProperty("total_files").GetInt32(), again.GetProperty("completed_files").GetInt32(), again.GetProperty("skipped_files").GetInt32(), again.GetProperty("downloaded_files").GetInt32()));
        Assert.NotEqual(report.GetProperty("job_id").GetString(), again.GetProperty("job_id").GetString());
        JsonElement heroAgain = ItemOf(again, "img/hero.jpg");
        Assert.Equal(("up_to_date", true, false), (heroAgain.GetProperty("status").GetString(), heroAgain.GetProperty("from_cache").GetBoolean(), heroAgain.GetProperty("downloaded").GetBoolean()));
        Assert.Equal(hero.Width, heroAgain.GetProperty("width").GetInt32());

        // Two clean builds give a byte-identical ZIP (the clean removes the default cache, so the images download again).
        BuildOk("-t:Clean");
        Assert.False(File.Exists(ZipFile));
        BuildOk();
        Assert.Equal(firstZip, File.ReadAllBytes(ZipFile));
        BuildOk("-t:Clean");
        BuildOk();
        Assert.Equal(firstZip, File.ReadAllBytes(ZipFile));
    }

    [Fact]
    public void WrongHash_FailsShowingBothHashes_UnpinnedWarnsWithTheHash_MissingNamesTheStatus_OthersConvert()
    {
        string wrong = Sha256Of(flowers);
        project.SetKoalaImages($"""
            <KoalaImage Include="img/local.jpg" Format="webp" Width="400" />
            <KoalaImage Include="img/hero.jpg" Url="{ConcertUrl}" Sha256="{wrong}" Format="webp" />
            <KoalaImage Include="img/flowers.jpeg" Url="{FlowersUrl}" Format="webp" Width="300" />
            <KoalaImage Include="img/gone.png" Url="{server.Url("/photos/gone.png")}" Format="webp" />
            """);

        DotNetResult result = Build();

        Assert.False(result.Succeeded, result.ToString());
        string mismatch = LineWith(result, "error KP4005");
        Assert.Contains("KoalaImage 'img/hero.jpg'", mismatch);
        Assert.Contains(ConcertUrl, mismatch);
        Assert.Contains("expected " + wrong, mismatch);
        Assert.Contains("actual " + Sha256Of(concert), mismatch);
        Assert.Contains(project.ProjectFile + project.KoalaImageAt("img/hero.jpg") + ": error KP4005", mismatch);

        string unpinned = LineWith(result, "warning KP4004");
        Assert.Contains($"Sha256=\"{Sha256Of(flowers)}\"", unpinned);

        string gone = LineWith(result, "error KP4006");
        Assert.Contains(server.Url("/photos/gone.png"), gone);
        Assert.Contains("HTTP 404", gone);

        Assert.False(File.Exists(Path.Combine(project.ObjOutputDirectory, "img", "hero.webp")));
        Assert.Equal(300, ImageFile.Read(Path.Combine(project.ObjOutputDirectory, "img", "flowers.webp")).Width);
        Assert.Equal(400, ImageFile.Read(Path.Combine(project.ObjOutputDirectory, "img", "local.webp")).Width);

        JsonElement report = ReadJson(ReportFile);
        Assert.Equal("completed_with_errors", report.GetProperty("status").GetString());
        Assert.Equal((4, 2, 2), (report.GetProperty("total_files").GetInt32(), report.GetProperty("completed_files").GetInt32(), report.GetProperty("failed_files").GetInt32()));
        Assert.Equal(DiagnosticCodes.HashMismatch, ItemOf(report, "img/hero.jpg").GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(DiagnosticCodes.DownloadFailed, ItemOf(report, "img/gone.png").GetProperty("error").GetProperty("code").GetString());
        JsonElement flowersItem = ItemOf(report, "img/flowers.jpeg");
        Assert.Equal("converted", flowersItem.GetProperty("status").GetString());
        Assert.Equal(DiagnosticCodes.UrlNotPinned, flowersItem.GetProperty("warning").GetProperty("code").GetString());
        Assert.Equal(Sha256Of(flowers), flowersItem.GetProperty("source_sha256").GetString());

        // KoalaPicRequirePinnedUrls turns the unpinned URL into an error too.
        project.SetKoalaImages($"""<KoalaImage Include="img/flowers.jpeg" Url="{FlowersUrl}" Format="webp" />""");
        DotNetResult strict = Build("-p:KoalaPicRequirePinnedUrls=true");
        Assert.False(strict.Succeeded, strict.ToString());
        Assert.Contains($"error KP4004: KoalaImage 'img/flowers.jpeg': KoalaPicRequirePinnedUrls is true", strict.Output);
        Assert.Contains(Sha256Of(flowers), strict.Output);
    }

    [Fact]
    public void Offline_BuildsFromTheCache_WithoutTheServer_AndNamesWhatIsMissing_InAndOutOfProcess()
    {
        // A cache of the user's own, which Clean keeps, as CI caches it between runs.
        string cache = Path.Combine(project.Directory, "koalapic-cache");
        project.SetProperty("KoalaPicCacheDir", cache);
        UsePinnedItems();
        BuildOk();
        int hits = server.TotalHits;
        Assert.Equal(2, hits);

        // Clean removes every output; the download cache stays. Offline, the build takes the sources from it.
        BuildOk("-t:Clean");
        Assert.False(File.Exists(Bin("img/hero.webp")));
        DotNetResult offline = BuildOk("-p:KoalaPicOffline=true");
        Assert.StartsWith("KoalaPic: 3 images, ", offline.Summary);
        Assert.Equal(hits, server.TotalHits);
        Assert.Equal(400, ImageFile.Read(Bin("img/hero.webp")).Width);
        Assert.Equal(300, ImageFile.Read(Bin("gallery/flowers.avif")).Width);
        Assert.All(ReadJson(ReportFile).GetProperty("items").EnumerateArray(), i => Assert.False(i.GetProperty("downloaded").GetBoolean()));

        // A URL never downloaded: offline, it is a KP4010 naming it, and the cached ones still convert (here in the koalapic process).
        string newUrl = server.Url("/photos/new.jpg");
        server.Serve("/photos/new.jpg", File.ReadAllBytes(Paths.Fixture("Landscape_2.jpg")));
        XDocumentEdit.AppendToProject(project.ProjectFile, $"""
            <ItemGroup><KoalaImage Include="img/new.jpg" Url="{newUrl}" Sha256="{Sha256Of(File.ReadAllBytes(Paths.Fixture("Landscape_2.jpg")))}" Format="webp" Width="200" /></ItemGroup>
            """);
        BuildOk("-t:Clean");
        DotNetResult missing = Build("-p:KoalaPicOffline=true", "-p:KoalaPicOutOfProcess=true");
        Assert.False(missing.Succeeded, missing.ToString());
        string line = LineWith(missing, "error KP4010");
        Assert.Contains("KoalaImage 'img/new.jpg'", line);
        Assert.Contains(newUrl, line);
        Assert.Equal(hits, server.TotalHits);
        Assert.Equal(400, ImageFile.Read(Path.Combine(project.ObjOutputDirectory, "img", "hero.webp")).Width);
        Assert.Equal(DiagnosticCodes.NotCachedOffline, ItemOf(ReadJson(ReportFile), "img/new.jpg").GetProperty("error").GetProperty("code").GetString());

        // Online again, out of process: only the missing URL is downloaded.
        DotNetResult online = BuildOk("-p:KoalaPicOutOfProcess=true");
        Assert.Equal(hits + 1, server.TotalHits);
        Assert.Equal(1, server.Hits("/photos/new.jpg"));
        Assert.Equal(200, ImageFile.Read(Bin("img/new.webp")).Width);
        Assert.Contains(online.KoalaPicLines, l => l.StartsWith("KoalaPic: downloaded " + newUrl, StringComparison.Ordinal));
    }
}
