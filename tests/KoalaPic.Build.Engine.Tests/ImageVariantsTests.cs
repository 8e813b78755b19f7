using System.Text.Json;
using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

public class ImageVariantsTests
{
    private static readonly string ProjectDirectory = Path.Combine(Path.GetTempPath(), "koalapic-variants", "Demo");
    private static readonly string ProjectFile = Path.Combine(ProjectDirectory, "Demo.csproj");
    private static readonly string Photo = Path.Combine(ProjectDirectory, "wwwroot", "img", "photo.png");

    private static IReadOnlyList<ImageRequest>? Create(List<Diagnostic> diagnostics, params (string Name, string Value)[] metadata)
    {
        var values = metadata.ToDictionary(m => m.Name, m => m.Value);
        return ImageVariants.TryCreate("wwwroot/img/photo.png", Photo, ProjectDirectory, name => values.TryGetValue(name, out string? v) ? v : "", ProjectFile, diagnostics);
    }

    private static IReadOnlyList<ImageRequest> Valid(params (string Name, string Value)[] metadata)
    {
        var diagnostics = new List<Diagnostic>();
        IReadOnlyList<ImageRequest>? requests = Create(diagnostics, metadata);
        Assert.NotNull(requests);
        Assert.DoesNotContain(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        return requests!;
    }

    [Fact]
    public void TwoItemsWithTheSameSpec_EachReportsItsOwnError_OnceForAllItsFormats()
    {
        // The same file included twice (two Links, say) with the same bad Quality: one error per item, not one per
        // format, and the second item's error is not swallowed as a repeat of the first's.
        var diagnostics = new List<Diagnostic>();

        Assert.Null(Create(diagnostics, ("Format", "avif;webp"), ("Quality", "abc")));
        Assert.Null(Create(diagnostics, ("Format", "avif;webp"), ("Quality", "abc")));

        Assert.Equal(2, diagnostics.Count(d => d.Code == DiagnosticCodes.InvalidQuality));
    }

    [Fact]
    public void OneFormatNoWidths_IsExactlyTheSingleRequest()
    {
        IReadOnlyList<ImageRequest> requests = Valid(("Format", "webp"), ("Width", "800"));

        ImageRequest single = Assert.Single(requests);
        var diagnostics = new List<Diagnostic>();
        ImageRequest? expected = ImageRequest.TryCreate("wwwroot/img/photo.png", Photo, ProjectDirectory, n => n == "Format" ? "webp" : n == "Width" ? "800" : "", ProjectFile, diagnostics);
        Assert.Equal(expected, single);
        Assert.Equal("wwwroot/img/photo.webp", single.OutputPath);
    }

    [Fact]
    public void SeveralFormatsNoWidths_OneRequestPerFormatInOrderWithoutSuffix()
    {
        IReadOnlyList<ImageRequest> requests = Valid(("Format", "avif; webp ;jpg"), ("Width", "640"));

        Assert.Equal(new[] { "wwwroot/img/photo.avif", "wwwroot/img/photo.webp", "wwwroot/img/photo.jpg" }, requests.Select(r => r.OutputPath));
        Assert.Equal(new[] { ImageFormat.Avif, ImageFormat.Webp, ImageFormat.Jpeg }, requests.Select(r => r.Options.Format));
        Assert.All(requests, r => Assert.Equal(640, r.Options.Width));
    }

    [Fact]
    public void FormatsTimesWidths_EveryCombinationNamedWithWidthSuffix()
    {
        IReadOnlyList<ImageRequest> requests = Valid(("Format", "avif;webp"), ("Widths", "960;480,1920"), ("Quality", "70"));

        Assert.Equal(
            new[]
            {
                "wwwroot/img/photo-480w.avif", "wwwroot/img/photo-960w.avif", "wwwroot/img/photo-1920w.avif",
                "wwwroot/img/photo-480w.webp", "wwwroot/img/photo-960w.webp", "wwwroot/img/photo-1920w.webp",
            },
            requests.Select(r => r.OutputPath));
        Assert.Equal(new int?[] { 480, 960, 1920, 480, 960, 1920 }, requests.Select(r => r.Options.Width));
        Assert.All(requests, r => Assert.Equal(70, r.Options.Quality));
    }

    [Fact]
    public void SeveralWidthsOneFormat_SuffixedAndLinkIsRespected()
    {
        IReadOnlyList<ImageRequest> requests = Valid(("Format", "webp"), ("Widths", "200;400"), ("Link", "hero/banner.png"));

        Assert.Equal(new[] { "hero/banner-200w.webp", "hero/banner-400w.webp" }, requests.Select(r => r.OutputPath));
    }

    [Fact]
    public void SingleWidthInWidths_NameUnchanged()
    {
        ImageRequest request = Assert.Single(Valid(("Format", "webp"), ("Widths", "480")));

        Assert.Equal("wwwroot/img/photo.webp", request.OutputPath);
        Assert.Equal(480, request.Options.Width);
    }

    [Fact]
    public void RepeatedFormatsAndWidths_AreCollapsed()
    {
        IReadOnlyList<ImageRequest> requests = Valid(("Format", "webp;WEBP"), ("Widths", "300;300;600"));

        Assert.Equal(new[] { "wwwroot/img/photo-300w.webp", "wwwroot/img/photo-600w.webp" }, requests.Select(r => r.OutputPath));
    }

    [Fact]
    public void WidthAndWidths_IsKP1017()
    {
        var diagnostics = new List<Diagnostic>();
        Assert.Null(Create(diagnostics, ("Format", "webp"), ("Width", "800"), ("Widths", "480;960")));

        Diagnostic error = Assert.Single(diagnostics);
        Assert.Equal(DiagnosticCodes.WidthAndWidths, error.Code);
        Assert.Equal("KP1017", error.Code);
        Assert.Contains("Width=\"800\"", error.Message);
        Assert.Contains("Widths=\"480;960\"", error.Message);
    }

    [Theory]
    [InlineData("480;abc")]
    [InlineData("0;480")]
    [InlineData("100001")]
    [InlineData("-5")]
    [InlineData(";")]
    public void InvalidWidths_IsKP1016WithTheValue(string widths)
    {
        var diagnostics = new List<Diagnostic>();
        Assert.Null(Create(diagnostics, ("Format", "webp"), ("Widths", widths)));

        Diagnostic error = Assert.Single(diagnostics);
        Assert.Equal("KP1016", error.Code);
        Assert.Contains($"Widths=\"{widths.Trim()}\"", error.Message);
        Assert.Contains("480;960;1920", error.Message);
    }

    [Fact]
    public void InvalidFormatInList_IsKP1001NamingThatFormat()
    {
        var diagnostics = new List<Diagnostic>();
        Assert.Null(Create(diagnostics, ("Format", "avif;jxl2;webp")));

        Diagnostic error = Assert.Single(diagnostics);
        Assert.Equal(DiagnosticCodes.InvalidFormat, error.Code);
        Assert.Contains("Format=\"jxl2\"", error.Message);
    }

    [Fact]
    public void PerFormatWarnings_AppliedPerFormatAndSharedOnesReportedOnce()
    {
        var diagnostics = new List<Diagnostic>();
        IReadOnlyList<ImageRequest>? requests = Create(diagnostics, ("Format", "webp;jpg;avif"), ("Lossless", "true"));

        Assert.NotNull(requests);
        Assert.Equal(new[] { true, false, true }, requests!.Select(r => r.Options.Lossless));
        Diagnostic warning = Assert.Single(diagnostics);
        Assert.Equal(DiagnosticCodes.LosslessIgnored, warning.Code);

        diagnostics.Clear();
        Assert.NotNull(Create(diagnostics, ("Format", "webp;avif"), ("Quality", "60"), ("SmartQuality", "medium")));
        Assert.Equal(DiagnosticCodes.QualityAndSmartQuality, Assert.Single(diagnostics).Code);
    }

    [Fact]
    public void Batch_WidthsWiderThanSourceAreSkippedNotEnlarged_ManifestListsRealSizes()
    {
        using var workspace = new BatchWorkspace();
        using (Image source = Solid(300, 200, 200, 40, 40))
        {
            workspace.WriteSource("wwwroot/img/photo.png", source.WriteToBuffer(".png"));
        }

        var diagnostics = new List<Diagnostic>();
        IReadOnlyList<ImageRequest> requests = ImageVariants.TryCreate(
            "wwwroot/img/photo.png", workspace.Source("wwwroot/img/photo.png"), workspace.Project,
            name => name switch { "Format" => "webp;png", "Widths" => "100;250;400;800", _ => "" },
            Path.Combine(workspace.Project, "p.csproj"), diagnostics)!;
        Assert.Empty(diagnostics);
        Assert.Equal(8, requests.Count);

        BatchResult result = workspace.Run(requests);
        Assert.Equal(0, result.Failed);
        var (kept, skipped) = ImageVariants.SkipWiderThanSource(result.Items, _ => true);

        Assert.Equal(
            new[] { "wwwroot/img/photo-100w.webp", "wwwroot/img/photo-250w.webp", "wwwroot/img/photo-100w.png", "wwwroot/img/photo-250w.png" },
            kept.Select(k => k.Request.OutputPath));
        Assert.Equal(4, skipped.Count);
        Assert.All(skipped, s => Assert.True(s.Request.Options.Width > 300));
        foreach (ItemResult item in kept)
        {
            using Image decoded = Image.NewFromFile(item.OutputFile);
            Assert.Equal(item.Request.Options.Width, decoded.Width);
            Assert.Equal(item.Width, decoded.Width);
            Assert.Equal(item.Height, decoded.Height);
        }

        ImageManifest manifest = ImageManifest.Create(workspace.Project, kept);
        using JsonDocument json = JsonDocument.Parse(manifest.ToJsonBytes());
        JsonElement root = json.RootElement;
        Assert.Equal(1, root.GetProperty("version").GetInt32());
        JsonElement image = Assert.Single(root.GetProperty("images").EnumerateArray());
        Assert.Equal("wwwroot/img/photo.png", image.GetProperty("source").GetString());
        Assert.Equal("/img/photo.png", image.GetProperty("path").GetString());
        JsonElement[] variants = image.GetProperty("variants").EnumerateArray().ToArray();
        Assert.Equal(new[] { "/img/photo-100w.webp", "/img/photo-250w.webp", "/img/photo-100w.png", "/img/photo-250w.png" }, variants.Select(v => v.GetProperty("url").GetString()));
        Assert.Equal(new[] { "webp", "webp", "png", "png" }, variants.Select(v => v.GetProperty("format").GetString()));
        Assert.Equal(new[] { 100, 250, 100, 250 }, variants.Select(v => v.GetProperty("width").GetInt32()));
        Assert.Equal(new[] { 67, 167, 67, 167 }, variants.Select(v => v.GetProperty("height").GetInt32()));
        for (int i = 0; i < variants.Length; i++)
        {
            Assert.Equal(new FileInfo(kept[i].OutputFile).Length, variants[i].GetProperty("bytes").GetInt64());
            Assert.Equal(new[] { "url", "format", "type", "width", "height", "bytes" }, variants[i].EnumerateObject().Select(p => p.Name));
        }
    }

    [Fact]
    public void SkipWiderThanSource_EveryWidthTooWide_KeepsTheNarrowestOncePerFormat()
    {
        using var workspace = new BatchWorkspace();
        using (Image source = Solid(120, 80, 10, 90, 200))
        {
            workspace.WriteSource("img/small.png", source.WriteToBuffer(".png"));
        }

        IReadOnlyList<ImageRequest> requests = ImageVariants.TryCreate(
            "img/small.png", workspace.Source("img/small.png"), workspace.Project,
            name => name switch { "Format" => "webp", "Widths" => "480;960", _ => "" },
            Path.Combine(workspace.Project, "p.csproj"), new List<Diagnostic>())!;
        BatchResult result = workspace.Run(requests);
        var (kept, skipped) = ImageVariants.SkipWiderThanSource(result.Items, _ => true);

        ItemResult only = Assert.Single(kept);
        Assert.Equal("img/small-480w.webp", only.Request.OutputPath);
        using Image decoded = Image.NewFromFile(only.OutputFile);
        Assert.Equal(120, decoded.Width);
        Assert.Equal("img/small-960w.webp", Assert.Single(skipped).Request.OutputPath);
    }

    [Fact]
    public void SkipWiderThanSource_RequestsNotFromWidths_AreNeverSkipped()
    {
        using var workspace = new BatchWorkspace();
        using (Image source = Solid(120, 80, 10, 90, 200))
        {
            workspace.WriteSource("img/small.png", source.WriteToBuffer(".png"));
        }

        BatchResult result = workspace.Run(new[] { workspace.Request("img/small.png", ("Format", "webp"), ("Width", "480")) });
        var (kept, skipped) = ImageVariants.SkipWiderThanSource(result.Items, _ => false);

        Assert.Single(kept);
        Assert.Empty(skipped);
    }

    [Theory]
    [InlineData("wwwroot/img/photo.png", "/img/photo.png")]
    [InlineData("WWWROOT/a.webp", "/a.webp")]
    [InlineData("img/photo.png", "/img/photo.png")]
    [InlineData("assets/wwwroot/x.png", "/assets/wwwroot/x.png")]
    public void WebPath_StripsOnlyALeadingWwwroot(string relative, string expected) =>
        Assert.Equal(expected, ImageManifest.WebPath(relative));
}
