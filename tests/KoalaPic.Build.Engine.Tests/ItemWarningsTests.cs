using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// Warnings that are true: no work and no KP2013 for Widths variants the source is too narrow for, sizes told apart,
/// KP2013 grouped per KoalaImage definition, and diagnostics about items at their element's line.
/// </summary>
public sealed class ItemWarningsTests : IDisposable
{
    private readonly TempFolder root = new();

    private string Project => root.Combine("project");

    private string ProjectFile => Path.Combine(Project, "p.csproj");

    private string Out => root.Combine("obj", "koalapic", "out");

    public void Dispose() => root.Dispose();

    // ---- variants wider than the source are never converted ----

    [Fact]
    public void WidthsWiderThanSource_AreNeverEncoded_NorWarnedAbout_NorInTheReport()
    {
        // A well-compressed 300 px JPEG as full-size PNGs: every variant that reaches the source's width is larger.
        WriteTightJpeg("img/tight.jpg", 300);
        var run = Run(Item("img/tight.jpg", ("Format", "png;webp"), ("Widths", "100;300;400;800"), ("Quality", "100")));

        Assert.True(run.Result.Succeeded, string.Join("\n", run.Result.Diagnostics));
        // One encode per kept variant: 100 and 300 of each format; 400 and 800 are never converted.
        string[] encoded = run.Progress.Select(l => l.Substring(l.IndexOf("-> ", StringComparison.Ordinal) + 3).Split(' ')[0]).OrderBy(p => p, StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { "img/tight-100w.png", "img/tight-100w.webp", "img/tight-300w.png", "img/tight-300w.webp" }, encoded);
        Assert.Equal(encoded, run.Result.Outputs.Select(o => o.TargetPath).OrderBy(p => p, StringComparer.Ordinal));
        Assert.Equal(4, run.Result.ImageCount);
        Assert.Equal(encoded, Directory.GetFiles(Out, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Out, f).Replace('\\', '/')).OrderBy(p => p, StringComparer.Ordinal));

        // KP2013 is true: the 300 px PNG is larger than its source, and no warning names a variant never written.
        Diagnostic larger = Assert.Single(run.Result.Diagnostics, d => d.Code == DiagnosticCodes.OutputLargerThanSource);
        Assert.Contains("img/tight-300w.png", larger.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(run.Result.Diagnostics, d => d.Message.Contains("-400w", StringComparison.Ordinal) || d.Message.Contains("-800w", StringComparison.Ordinal));

        using JsonDocument report = JsonDocument.Parse(File.ReadAllBytes(root.Combine("obj", "koalapic", "report.json")));
        Assert.Equal(
            new[] { "img/tight-100w.png", "img/tight-300w.png", "img/tight-100w.webp", "img/tight-300w.webp" },
            report.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("output").GetString()));
        Assert.Contains(run.Result.Log, l => l.Text == "KoalaPic: skipped 'img/tight-400w.png': the source 'img/tight.jpg' is only 300 pixels wide, narrower than 400 in Widths (widths are not enlarged).");
    }

    [Fact]
    public void EveryWidthWiderThanSource_OnlyTheNarrowestOfEachFormatIsEncoded()
    {
        using (Image small = Solid(120, 80, 10, 90, 200))
        {
            Write("img/small.png", small.WriteToBuffer(".png"));
        }

        var run = Run(Item("img/small.png", ("Format", "webp;avif"), ("Widths", "480;960;1920")));

        Assert.True(run.Result.Succeeded, string.Join("\n", run.Result.Diagnostics));
        Assert.Equal(2, run.Progress.Count);
        Assert.Equal(new[] { "img/small-480w.webp", "img/small-480w.avif" }, run.Result.Outputs.Select(o => o.TargetPath));
        Assert.All(run.Result.Outputs, o => Assert.Equal(120, o.Width));
    }

    [Fact]
    public void ExifOrientation_TheUprightWidthDecides()
    {
        // Stored 450x600 with orientation 6: upright it is 600 wide, so 500 fits and only 700 is too wide.
        Write("img/rotated.jpg", FixtureBytes("Landscape_6.jpg"));

        var run = Run(Item("img/rotated.jpg", ("Format", "webp"), ("Widths", "300;500;700")));

        Assert.True(run.Result.Succeeded, string.Join("\n", run.Result.Diagnostics));
        Assert.Equal(2, run.Progress.Count);
        Assert.Equal(new[] { ("img/rotated-300w.webp", 300), ("img/rotated-500w.webp", 500) }, run.Result.Outputs.Select(o => (o.TargetPath, o.Width ?? 0)));
        using Image decoded = Image.NewFromFile(Path.Combine(Out, "img", "rotated-500w.webp"));
        Assert.Equal(500, decoded.Width);
    }

    [SkippableFact]
    public void AnUnchangedSource_ItsRecordedWidthDecides_WithoutReadingTheHeader()
    {
        Skip.If(!OperatingSystem.IsLinux(), "source stamps are trusted only where the change time can be read (Linux)");
        using (Image photo = Solid(300, 200, 200, 40, 40))
        {
            Write("img/photo.png", photo.WriteToBuffer(".png"));
        }

        JobItem item = Item("img/photo.png", ("Format", "webp"), ("Widths", "100;200;250"));
        var first = Run(item);
        Assert.Equal(3, first.Result.Outputs.Count);

        // The record says the unchanged source is 150 px wide (a made-up width, so that using it shows): the next run
        // believes it, and never reads the header that says 300.
        string stateFile = root.Combine("obj", "koalapic", "state.json");
        OutputState state = OutputState.Load(stateFile);
        string source = Path.Combine(Project, "img", "photo.png");
        var (change, fileId) = FileChangeTime.Of(source)!.Value;
        var info = new FileInfo(source);
        foreach (OutputRecord record in state.Outputs.Values)
        {
            Assert.Equal(300, record.SourceWidth);
            record.SourceWidth = 150;
            record.Source = new SourceRecord { Path = source, Settings = record.Source?.Settings ?? "", Length = info.Length, LastWriteUtcTicks = info.LastWriteTimeUtc.Ticks, ChangeUtcTicks = change, FileId = fileId };
        }

        state.Save(stateFile);
        var second = Run(item);

        Assert.Equal(new[] { "img/photo-100w.webp" }, second.Result.Outputs.Select(o => o.TargetPath));
        Assert.Contains(second.Result.Log, l => l.Text.Contains("is only 150 pixels wide, narrower than 200", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("fit-contain", "Fit", "contain")]
    [InlineData("enlarge", "Enlarge", "true")]
    public void VariantsThatAreNotShrunk_AreAllConverted(string name, string metadata, string value)
    {
        using (Image small = Solid(120, 80, 10, 90, 200))
        {
            Write($"img/{name}.png", small.WriteToBuffer(".png"));
        }

        var run = Run(Item($"img/{name}.png", ("Format", "webp"), ("Widths", "100;200;400"), (metadata, value)));

        Assert.True(run.Result.Succeeded, string.Join("\n", run.Result.Diagnostics));
        Assert.Equal(new[] { 100, 200, 400 }, run.Result.Outputs.Select(o => o.Width ?? 0));
    }

    [Fact]
    public void HeaderThatCannotBeRead_IsConvertedAsBefore_AndFailsWithItsOwnCode()
    {
        // Hostile: a PNG signature followed by garbage, and text named .png. Nothing is guessed: each variant gets
        // the conversion's own error, as without the header check.
        Write("img/broken.png", new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4, 5, 6, 7, 8 });
        Write("img/text.png", System.Text.Encoding.ASCII.GetBytes("<html>not an image</html>"));

        var run = Run(
            Item("img/broken.png", ("Format", "webp"), ("Widths", "100;200")),
            Item("img/text.png", ("Format", "webp"), ("Widths", "100;200")));

        // Every variant was scheduled and failed on its own, as without the header check.
        Assert.Equal(
            new[] { ("img/broken.png", DiagnosticCodes.CannotDecode), ("img/broken.png", DiagnosticCodes.CannotDecode), ("img/text.png", DiagnosticCodes.NotAnImage), ("img/text.png", DiagnosticCodes.NotAnImage) },
            run.Result.Diagnostics.Select(d => (d.Message.Split('\'')[1], d.Code)));
        using JsonDocument report = JsonDocument.Parse(File.ReadAllBytes(root.Combine("obj", "koalapic", "report.json")));
        Assert.Equal(
            new[] { "img/broken.png", "img/broken.png", "img/text.png", "img/text.png" },
            report.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("item").GetString()));
    }

    [SkippableFact]
    public void FifoAndDeviceLinkWithWidths_AreRefusedUnopened_PerVariantAsBefore()
    {
        Skip.If(OperatingSystem.IsWindows(), "FIFOs and /dev exist on Unix only");
        string fifo = Path.Combine(Project, "img", "pipe.png");
        Directory.CreateDirectory(Path.GetDirectoryName(fifo)!);
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", new[] { fifo }))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        File.CreateSymbolicLink(Path.Combine(Project, "img", "zero.png"), "/dev/zero");

        // Reading the header must not open them (a FIFO would block, /dev/zero never ends): each variant gets KP2010.
        var run = Run(Item("img/pipe.png", ("Format", "webp"), ("Widths", "100;200")), Item("img/zero.png", ("Format", "webp"), ("Widths", "100;200")));

        Assert.Equal(4, run.Result.Diagnostics.Count);
        Assert.All(run.Result.Diagnostics, d => Assert.Equal(DiagnosticCodes.NotARegularFile, d.Code));
    }

    [Fact]
    public void SourceWidth_IsTheUprightRasterWidth_AndUnknownForSvg()
    {
        Assert.Equal(600, Convert(FixtureBytes("Landscape_6.jpg"), ImageFormat.Webp, width: 100).SourceWidth);
        Assert.Equal(600, SourceHeader.OrientedWidth(Fixture("Landscape_6.jpg"), SourceFile.DefaultMaxBytes, ImageConverter.DefaultMaxPixels));

        // An SVG is drawn at any width: no width is recorded or read for it, so no variant of it is ever left out.
        Assert.Equal(0, Convert(FixtureBytes("circle.svg"), ImageFormat.Png, width: 100).SourceWidth);
        Assert.Null(SourceHeader.OrientedWidth(Fixture("circle.svg"), SourceFile.DefaultMaxBytes, ImageConverter.DefaultMaxPixels));

        // Over the byte or pixel limit: unknown, so the conversion reports KP2011 or KP2003 for every variant as before.
        Assert.Null(SourceHeader.OrientedWidth(Fixture("Landscape_6.jpg"), 100, ImageConverter.DefaultMaxPixels));
        Assert.Null(SourceHeader.OrientedWidth(Fixture("Landscape_6.jpg"), SourceFile.DefaultMaxBytes, 1000));
    }

    // ---- sizes told apart ----

    [Theory]
    [InlineData(80_000, 75_000, "80 KB", "75 KB")]
    [InlineData(7_312, 7_101, "7.3 KB", "7.1 KB")]
    [InlineData(7_312, 7_301, "7,312 B", "7,301 B")]
    [InlineData(1_234_567, 1_230_000, "1,234,567 B", "1,230,000 B")]
    [InlineData(900, 899, "900 B", "899 B")]
    [InlineData(5_000, 5_000, "5 KB", "5 KB")]
    public void FormatBytesApart_DifferentSizesNeverLookEqual(long first, long second, string expectedFirst, string expectedSecond) =>
        Assert.Equal((expectedFirst, expectedSecond), BatchLog.FormatBytesApart(first, second));

    // ---- grouped per definition, at the element's line ----

    [Fact]
    public void LargerThanSource_ManyItemsOfOneDefinition_OneWarningAtItsLine()
    {
        WriteProject("""
            <Project Sdk="Microsoft.NET.Sdk">
              <ItemGroup>
                <KoalaImage Include="img/*.jpg" Format="png" />
                <KoalaImage Include="solo/one.jpg" Format="png" />
              </ItemGroup>
            </Project>
            """);
        string[] names = { "a", "b", "c", "d", "e" };
        foreach (string name in names)
        {
            WriteTightJpeg($"img/{name}.jpg", 200);
        }

        WriteTightJpeg("solo/one.jpg", 200);

        var run = Run(names.Select(n => Item($"img/{n}.jpg", ("Format", "png"))).Append(Item("solo/one.jpg", ("Format", "png"))).ToArray());

        var warnings = run.Result.Diagnostics.Where(d => d.Code == DiagnosticCodes.OutputLargerThanSource).ToList();
        Assert.Equal(2, warnings.Count);
        Diagnostic group = warnings[0];
        Assert.StartsWith("5 outputs of KoalaImage Include=\"img/*.jpg\" are larger than their sources (img/a.png: ", group.Message, StringComparison.Ordinal);
        Assert.Contains(", img/b.png: ", group.Message, StringComparison.Ordinal);
        Assert.Contains(", … and 2 more)", group.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("img/d.png", group.Message, StringComparison.Ordinal);
        Assert.Matches(@"img/a\.png: \d[\d.,]* (KB|B) > \d[\d.,]* (KB|B)", group.Message);
        Assert.Equal((ProjectFile, 3, 5), (group.File, group.Line, group.Column));

        // One output alone keeps the message naming it, at its source image (no line there).
        Diagnostic solo = warnings[1];
        Assert.StartsWith("KoalaImage 'solo/one.jpg': the png output 'solo/one.png' is larger than its source (", solo.Message, StringComparison.Ordinal);
        Assert.Equal((Path.Combine(Project, "solo", "one.jpg"), (int?)null), (solo.File, solo.Line));
    }

    [Fact]
    public void MetadataErrors_PointAtTheElementsLine_GroupedPerDefinition()
    {
        WriteProject("""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net8.0</TargetFramework>
              </PropertyGroup>
              <ItemGroup>
                <KoalaImage Include="img/*.png" Format="wepb" />
                  <KoalaImage Include="other/x.png;other/y.png" Quality="abc" />
              </ItemGroup>
            </Project>
            """);

        var run = Run(
            Item("img/a.png", ("Format", "wepb")),
            Item("img/b.png", ("Format", "wepb")),
            Item("other/x.png", ("Quality", "abc")),
            Item("elsewhere/z.png", ("Quality", "abc")));

        var errors = run.Result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.Equal(3, errors.Count);
        Assert.Equal((DiagnosticCodes.InvalidFormat, ProjectFile, (int?)6, (int?)5), (errors[0].Code, errors[0].File, errors[0].Line, errors[0].Column));
        Assert.StartsWith("KoalaImage items 'img/a.png', 'img/b.png': ", errors[0].Message, StringComparison.Ordinal);
        Assert.Equal((DiagnosticCodes.InvalidQuality, (int?)7, (int?)7), (errors[1].Code, errors[1].Line, errors[1].Column));
        Assert.StartsWith("KoalaImage 'other/x.png': ", errors[1].Message, StringComparison.Ordinal);

        // An item no element of the project declares (a target added it) points at the project, without a line.
        Assert.Equal((DiagnosticCodes.InvalidQuality, ProjectFile, (int?)null), (errors[2].Code, errors[2].File, errors[2].Line));
    }

    [Fact]
    public void PatternMatchingNothing_AtItsLine()
    {
        WriteProject("""
            <Project>
              <ItemGroup>

                <KoalaImage Include="typo/*.png" />
              </ItemGroup>
            </Project>
            """);

        Diagnostic warning = Assert.Single(DeclaredPatterns.Unmatched(new[] { ProjectFile }, Project, Array.Empty<string>()));

        Assert.Equal((DiagnosticCodes.PatternMatchesNothing, ProjectFile, (int?)4, (int?)5), (warning.Code, warning.File, warning.Line, warning.Column));
    }

    [Fact]
    public void LineAndColumn_SurviveTheKoalapicProcessProtocol()
    {
        var result = new JobResult { Diagnostics = { Diagnostic.Error("KP1001", "KoalaImage 'a.png': bad", "/p/p.csproj").At(new SourceLocation("/p/p.csproj", 12, 5)), Diagnostic.Warning("KP2013", "larger", "/p/b.png") } };

        JobResult back = JobProtocol.Deserialize<JobResult>(JobProtocol.Serialize(result))!;

        Assert.Equal(result.Diagnostics, back.Diagnostics);
        Assert.Equal((12, 5), (back.Diagnostics[0].Line, back.Diagnostics[0].Column));
        Assert.Null(back.Diagnostics[1].Line);
    }

    // ---- helpers ----

    private void Write(string relative, byte[] bytes)
    {
        string path = Path.Combine(Project, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }

    private void WriteTightJpeg(string relative, int width)
    {
        using Image photo = Image.ThumbnailBuffer(FixtureBytes("Landscape_1.jpg"), width);
        Write(relative, photo.JpegsaveBuffer(q: 20));
    }

    private void WriteProject(string xml)
    {
        Directory.CreateDirectory(Project);
        File.WriteAllText(ProjectFile, xml);
    }

    private static JobItem Item(string spec, params (string Name, string Value)[] metadata) =>
        new() { ItemSpec = spec, Metadata = metadata.ToDictionary(m => m.Name, m => m.Value) };

    private (JobResult Result, List<string> Progress) Run(params JobItem[] items)
    {
        Directory.CreateDirectory(Project);
        var input = new JobInput
        {
            ProjectDirectory = Project,
            ProjectFile = ProjectFile,
            IntermediateDirectory = root.Combine("obj", "koalapic"),
            CacheDirectory = root.Combine("cache"),
            DeclaringFiles = File.Exists(ProjectFile) ? new List<string> { ProjectFile } : new List<string>(),
        };
        input.Items.AddRange(items);
        var progress = new List<string>();
        JobResult result = ImageJob.Run(input, line =>
        {
            // One progress line per image encoded in this run ("KoalaPic: [n/N] spec -> output a -> b").
            if (line.Text.StartsWith("KoalaPic: [", StringComparison.Ordinal))
            {
                progress.Add(line.Text);
            }
        });
        return (result, progress);
    }
}
