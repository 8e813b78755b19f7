using System.Diagnostics;
using System.Text.RegularExpressions;
using KoalaPic.Build.Engine;
using KoalaPic.Build.Tests;
using Xunit.Abstractions;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>
/// A new user's folder of images from anywhere, built for real: one KP error per bad file naming it and the item,
/// every good image converted, no secret pixel, no connection, no output or cache entry for a bad file, no stack
/// trace; with KoalaPicImageErrorsAsWarnings the same diagnostics as warnings and a green build.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed partial class HostileBuildTests : IDisposable
{
    private const int Width = 600;

    private readonly ITestOutputHelper output;
    private readonly LoopbackListener listener = new();
    private readonly TestProject project;

    /// <summary>Bad files and the one code each must get.</summary>
    private readonly Dictionary<string, string> bad = new(StringComparer.Ordinal);

    /// <summary>SVGs that try to leak: each may convert (without the secret) or fail with KP2002.</summary>
    private readonly List<string> attacks = new();

    /// <summary>Good images and their source in the project.</summary>
    private readonly List<string> good = new();

    public HostileBuildTests(PackageFixture package, ITestOutputHelper output)
    {
        this.output = output;
        project = TestProject.Create(package, "Hostile");

        // Good photos and graphics, named as people name them.
        AddGood("concert.jpg", "concert.jpg");
        AddGood("Channel_digital_image_CMYK_color.jpg", "cmyk.jpg");
        AddGood("Landscape_6.jpg", "landscape exif 6.jpg");
        AddGood("flowers.jpeg", "fleurs été 写真.jpeg");
        AddGood("16-bit-grey-alpha.png", "16-bit grey alpha.png");
        AddGood("check.svg", "check.svg");
        good.Add("img/" + "palette transparency.png");
        project.WriteFile("img/palette transparency.png", File.ReadAllBytes(Path.Combine(Paths.Corpus, "pngsuite", "tbrn2c08.png")));

        byte[] photo = File.ReadAllBytes(Paths.Fixture("concert.jpg"));
        AddBad("empty.jpg", Array.Empty<byte>(), DiagnosticCodes.EmptySource);
        AddBad("notes.jpg", "shopping list: eucalyptus\n"u8.ToArray(), DiagnosticCodes.NotAnImage);
        AddBad("cut in half.jpg", photo.AsSpan(0, photo.Length / 2).ToArray(), DiagnosticCodes.CannotDecode);
        AddBad("truncated.jpg", File.ReadAllBytes(Paths.Fixture("truncated.jpg")), DiagnosticCodes.CannotDecode);
        AddBad("corrupt-header.jpg", File.ReadAllBytes(Paths.Fixture("corrupt-header.jpg")), DiagnosticCodes.CannotDecode);
        foreach (string broken in Directory.GetFiles(Path.Combine(Paths.Corpus, "pngsuite"), "x*.png"))
        {
            // A damaged signature (xs*, and xcr/xlf whose line endings were mangled) is not recognisable as a PNG.
            string name = Path.GetFileName(broken);
            string code = name.StartsWith("xs", StringComparison.Ordinal) || name is "xcrn0g04.png" or "xlfn0g04.png"
                ? DiagnosticCodes.NotAnImage
                : DiagnosticCodes.CannotDecode;
            AddBad(name, File.ReadAllBytes(broken), code);
        }

        AddBad("zeros 30000x30000.png", HostileFiles.Bomb30000Png, DiagnosticCodes.TooManyPixels);

        // The secrets sit in the project, outside img/, where a relative reference from img/ reaches them.
        HostileFiles.Targets secrets = HostileFiles.WriteSecrets(Path.Combine(project.Directory, "secrets"), listener.Port);
        Secrets = secrets;
        foreach (var (name, bytes) in HostileFiles.ScriptPayloads(secrets))
        {
            AddBad(name, bytes, DiagnosticCodes.NotAnImage);
        }

        foreach (var (name, bytes) in HostileFiles.SvgAttacks(secrets))
        {
            project.WriteFile("img/" + name, bytes);
            attacks.Add("img/" + name);
        }
    }

    private HostileFiles.Targets Secrets { get; }

    public void Dispose()
    {
        listener.Dispose();
        project.Dispose();
    }

    private void AddGood(string corpus, string name)
    {
        project.AddImage(corpus, "img/" + name);
        good.Add("img/" + name);
    }

    private void AddBad(string name, byte[] bytes, string code)
    {
        project.WriteFile("img/" + name, bytes);
        bad.Add("img/" + name, code);
    }

    private string Source(string item) => Path.Combine(project.Directory, item);

    private string ObjOutput(string item) => Path.Combine(project.ObjOutputDirectory, Path.ChangeExtension(item, ".webp"));

    private string BinOutput(string item) => Path.Combine(project.BinDirectory, Path.ChangeExtension(item, ".webp"));

    private string CacheDirectory => Path.Combine(project.Directory, "obj", "koalapic", "cache");

    /// <summary><c>/p/img/a.jpg : error KP2002: KoalaImage 'img/a.jpg': '/p/img/a.jpg' … [/p/Hostile.csproj]</c></summary>
    [GeneratedRegex(@"^(?<file>.+?) : (?<severity>error|warning) (?<code>KP\d{4}): KoalaImage '(?<item>[^']+)': (?<message>.*) \[(?<project>[^\]]+)\]$")]
    private static partial Regex DiagnosticLine();

    private sealed record Reported(string File, string Severity, string Code, string Item, string Message, string Project, string Line);

    /// <summary>The diagnostics in the build log, without the repeat of them in MSBuild's closing summary.</summary>
    private static List<Reported> Diagnostics(DotNetResult result) =>
        result.Output.Split('\n').Select(l => l.Trim())
            .TakeWhile(l => l is not ("Build FAILED." or "Build succeeded."))
            .Select(l => (Line: l, Match: DiagnosticLine().Match(l)))
            .Where(m => m.Match.Success)
            .Select(m => new Reported(m.Match.Groups["file"].Value, m.Match.Groups["severity"].Value, m.Match.Groups["code"].Value, m.Match.Groups["item"].Value, m.Match.Groups["message"].Value, m.Match.Groups["project"].Value, m.Line))
            .ToList();

    private DotNetResult TimedBuild(params string[] arguments)
    {
        var clock = Stopwatch.StartNew();
        DotNetResult result = project.Build(arguments);
        output.WriteLine($"dotnet build {string.Join(' ', arguments)}: {clock.Elapsed.TotalSeconds:0.0} s, exit {result.ExitCode}");
        output.WriteLine(result.KoalaPicLines.LastOrDefault(l => l.Contains(" images, ", StringComparison.Ordinal)) ?? "(no summary)");
        // 0 or 1 (errors): anything else is a crashed build, whose whole log is the evidence.
        Assert.True(result.ExitCode is 0 or 1, $"dotnet build crashed (exit {result.ExitCode}):\n{result.Output}");
        return result;
    }

    private static void AssertNoCrash(DotNetResult result)
    {
        Assert.DoesNotContain("MSB4018", result.Output);
        Assert.DoesNotContain("MSB4166", result.Output); // child node exited prematurely
        Assert.DoesNotContain("   at ", result.Output);
        Assert.DoesNotContain("Unhandled exception", result.Output);
        Assert.DoesNotContain("KP0003", result.Output);
    }

    /// <summary>Every bad file: exactly one diagnostic of its code and severity, naming the item and the file; no output anywhere.</summary>
    private void AssertEachBadFileReportedOnceWithoutOutput(List<Reported> diagnostics, string severity)
    {
        foreach (var (item, code) in bad)
        {
            var forItem = diagnostics.Where(d => d.Item == item).ToList();
            Assert.True(forItem.Count == 1, $"{item}: {forItem.Count} diagnostics\n{string.Join("\n", forItem.Select(d => d.Line))}");
            Reported d = forItem[0];
            Assert.True(code == d.Code && severity == d.Severity, $"{item}: expected {severity} {code}, got {d.Line}");
            Assert.Equal(Source(item), d.File);
            Assert.Contains($"'{Source(item)}'", d.Message);
            Assert.Equal(project.ProjectFile, d.Project);
            Assert.False(File.Exists(ObjOutput(item)), $"{item} has an output in obj/");
            Assert.False(File.Exists(BinOutput(item)), $"{item} has an output in bin/");
        }
    }

    /// <param name="outputOf">Where an item's output is: obj/ (a failed build copies nothing to bin/) or bin/.</param>
    private void AssertGoodImagesConverted(Func<string, string> outputOf)
    {
        foreach (string item in good)
        {
            var (sourceWidth, sourceHeight) = ImageFile.UprightSize(Source(item));
            // Rasters are never enlarged; an SVG is drawn at the requested width, whatever its own size.
            int width = item.EndsWith(".svg", StringComparison.Ordinal) ? Width : Math.Min(Width, sourceWidth);
            int height = (int)Math.Round(sourceHeight * (double)width / sourceWidth);
            ImageFile converted = ImageFile.Read(outputOf(item));
            Assert.Equal("VipsForeignLoadWebpBuffer", converted.Loader);
            Assert.Equal(width, converted.Width);
            Assert.InRange(converted.Height, height - 1, height + 1);
        }

        // The CMYK photo is three-band sRGB now, and the EXIF-rotated one is upright (taller than wide as stored).
        Assert.Equal(3, ImageFile.Read(outputOf("img/cmyk.jpg")).Bands);
        ImageFile rotated = ImageFile.Read(outputOf("img/landscape exif 6.jpg"));
        Assert.True(rotated.Width > rotated.Height, $"{rotated.Width}x{rotated.Height}: not upright");
    }

    private void AssertNoSecretLeakedAndNoConnection(List<Reported> diagnostics)
    {
        foreach (string item in attacks)
        {
            if (File.Exists(ObjOutput(item)))
            {
                Assert.Equal(0, HostileFiles.SecretPixelCount(File.ReadAllBytes(ObjOutput(item))));
            }
            else
            {
                Reported d = Assert.Single(diagnostics, x => x.Item == item);
                Assert.Equal(DiagnosticCodes.CannotDecode, d.Code);
            }
        }

        Assert.False(File.Exists(Secrets.MslWriteTarget), "an MSL script wrote a file");
        Assert.Equal(0, listener.Connections);
        listener.AssertItCountsAConnection();
    }

    [Fact]
    public void HostileFolder_DefaultBuild_FailsWithOneErrorPerBadFile_ConvertsTheGoodOnes_LeaksNothing()
    {
        DotNetResult result = TimedBuild();

        Assert.False(result.Succeeded);
        AssertNoCrash(result);
        List<Reported> diagnostics = Diagnostics(result);
        AssertEachBadFileReportedOnceWithoutOutput(diagnostics, "error");
        Assert.All(diagnostics, d => Assert.True(bad.ContainsKey(d.Item) || attacks.Contains(d.Item), "unexpected: " + d.Line));
        Assert.Equal(2 * diagnostics.Count, Regex.Matches(result.Output, @" : error [A-Z]+\d+: ").Count); // log and summary: no other error
        AssertGoodImagesConverted(ObjOutput);
        AssertNoSecretLeakedAndNoConnection(diagnostics);

        int failed = diagnostics.Count;
        int total = bad.Count + attacks.Count + good.Count;
        Assert.StartsWith($"KoalaPic: {total} images, {total - failed} converted, 0 up to date, {failed} failed, ", result.Summary);

        // The cache holds the converted images only: nothing for a bad file.
        Assert.Equal(total - failed, Directory.GetFiles(CacheDirectory, "*", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public void HostileFolder_WithImageErrorsAsWarnings_Succeeds_ReportingTheSameCodesAsWarnings_AndBadFilesHaveNoOutput()
    {
        DotNetResult result = TimedBuild("-p:KoalaPicImageErrorsAsWarnings=true");

        Assert.True(result.Succeeded, result.ToString());
        AssertNoCrash(result);
        Assert.DoesNotMatch(@" : error [A-Z]+\d+: ", result.Output);
        List<Reported> diagnostics = Diagnostics(result);
        AssertEachBadFileReportedOnceWithoutOutput(diagnostics, "warning");
        AssertGoodImagesConverted(BinOutput);
        AssertNoSecretLeakedAndNoConnection(diagnostics);
    }
}
