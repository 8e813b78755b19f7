using KoalaPic.Build.Engine;
using Xunit;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>Item metadata validation and output paths.</summary>
public class ImageRequestTests
{
    private static readonly string ProjectDirectory = Path.Combine(Path.GetTempPath(), "koalapic-request", "Demo");
    private static readonly string ProjectFile = Path.Combine(ProjectDirectory, "Demo.csproj");
    private static readonly string Hero = Path.Combine(ProjectDirectory, "img", "hero.png");

    private static ImageRequest? Create(IReadOnlyDictionary<string, string> metadata, List<Diagnostic> diagnostics, string? source = null, string itemSpec = "img/hero.png") =>
        ImageRequest.TryCreate(
            itemSpec,
            source ?? Hero,
            ProjectDirectory,
            name => metadata.TryGetValue(name, out string? value) ? value : "",
            ProjectFile,
            diagnostics);

    private static ImageRequest Valid(IReadOnlyDictionary<string, string> metadata, string? source = null)
    {
        var diagnostics = new List<Diagnostic>();
        ImageRequest? request = Create(metadata, diagnostics, source);
        Assert.Empty(diagnostics);
        Assert.NotNull(request);
        return request!;
    }

    private static Dictionary<string, string> Meta(params (string Name, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Name, p => p.Value);

    [Fact]
    public void NoMetadata_TryCreate_DefaultsToJpgQuality85OriginalSize()
    {
        ImageRequest request = Valid(Meta());

        Assert.Equal(new ConversionOptions(ImageFormat.Jpeg, 85, null, null), request.Options);
        Assert.Equal(ConversionOptions.Default, request.Options);
        Assert.Equal("img/hero.jpg", request.OutputPath);
        Assert.Equal("img/hero.png", request.ItemSpec);
        Assert.Equal(Hero, request.SourcePath);
    }

    [Fact]
    public void AllMetadata_TryCreate_IsParsed()
    {
        ImageRequest request = Valid(Meta(("Format", " WebP "), ("Quality", "70"), ("Width", "800"), ("Height", "600")));

        Assert.Equal(new ConversionOptions(ImageFormat.Webp, 70, 800, 600), request.Options);
        Assert.Equal("img/hero.webp", request.OutputPath);
    }

    [Theory]
    [InlineData("jpg", ImageFormat.Jpeg, ".jpg")]
    [InlineData("JPEG", ImageFormat.Jpeg, ".jpg")]
    [InlineData("png", ImageFormat.Png, ".png")]
    [InlineData("webp", ImageFormat.Webp, ".webp")]
    [InlineData("avif", ImageFormat.Avif, ".avif")]
    [InlineData("gif", ImageFormat.Gif, ".gif")]
    [InlineData("tif", ImageFormat.Tiff, ".tiff")]
    [InlineData("Tiff", ImageFormat.Tiff, ".tiff")]
    public void FormatAlias_TryCreate_MapsToFormatAndCanonicalExtension(string value, ImageFormat format, string extension)
    {
        ImageRequest request = Valid(Meta(("Format", value)));

        Assert.Equal(format, request.Options.Format);
        Assert.Equal("img/hero" + extension, request.OutputPath);
    }

    [Theory]
    [InlineData("Quality", "abc", "KP1002", "a whole number from 1 to 100 (default 85)")]
    [InlineData("Quality", "0", "KP1002", "a whole number from 1 to 100 (default 85)")]
    [InlineData("Quality", "101", "KP1002", "a whole number from 1 to 100 (default 85)")]
    [InlineData("Quality", "85.5", "KP1002", "a whole number from 1 to 100 (default 85)")]
    [InlineData("Quality", "-1", "KP1002", "a whole number from 1 to 100 (default 85)")]
    [InlineData("Format", "xyz", "KP1001", "jpg (default), png, webp, avif, gif, ico, bmp, tiff, pdf, heic, svg, jxl; aliases jpeg, tif, heif, jpeg-xl")]
    [InlineData("Width", "-5", "KP1003", "a whole number of pixels from 1 to 100000, or empty for the original size")]
    [InlineData("Width", "0", "KP1003", "a whole number of pixels from 1 to 100000, or empty for the original size")]
    [InlineData("Width", "100001", "KP1003", "a whole number of pixels from 1 to 100000, or empty for the original size")]
    [InlineData("Width", "800px", "KP1003", "a whole number of pixels from 1 to 100000, or empty for the original size")]
    [InlineData("Height", "1e3", "KP1004", "a whole number of pixels from 1 to 100000, or empty for the original size")]
    [InlineData("Link", "../x.png", "KP1005", "a relative file path inside the output folder, such as img/hero.webp (not the folder itself, no '..', no control characters)")]
    [InlineData("Link", "img/../../x.png", "KP1005", "a relative file path inside the output folder, such as img/hero.webp (not the folder itself, no '..', no control characters)")]
    [InlineData("Link", "img\\..\\..\\x.png", "KP1005", "a relative file path inside the output folder, such as img/hero.webp (not the folder itself, no '..', no control characters)")]
    [InlineData("Link", "/etc/x.png", "KP1005", "a relative file path inside the output folder, such as img/hero.webp (not the folder itself, no '..', no control characters)")]
    [InlineData("Link", "C:\\x.png", "KP1005", "a relative file path inside the output folder, such as img/hero.webp (not the folder itself, no '..', no control characters)")]
    public void InvalidMetadata_TryCreate_ReportsCodeItemNameValueAndAcceptedValues(string name, string value, string code, string accepted)
    {
        var diagnostics = new List<Diagnostic>();

        ImageRequest? request = Create(Meta((name, value)), diagnostics);

        Assert.Null(request);
        Diagnostic diagnostic = Assert.Single(diagnostics);
        Assert.Equal(code, diagnostic.Code);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(ProjectFile, diagnostic.File);
        Assert.Equal($"KoalaImage 'img/hero.png': {name}=\"{value}\" is not valid. Accepted values: {accepted}.", diagnostic.Message);
        Assert.Contains("img/hero.png", diagnostic.Message); // the item
        Assert.Contains(name + "=", diagnostic.Message); // the metadata name
        Assert.Contains('"' + value + '"', diagnostic.Message); // the value received
        Assert.Contains(accepted, diagnostic.Message); // the accepted values
    }

    [Fact]
    public void SeveralInvalidMetadata_TryCreate_ReportsEachOnceInOrder()
    {
        var diagnostics = new List<Diagnostic>();

        ImageRequest? request = Create(Meta(("Format", "bitmap"), ("Quality", "high"), ("Width", "-1"), ("Height", "x"), ("Link", "../a")), diagnostics);

        Assert.Null(request);
        Assert.Equal(new[] { "KP1001", "KP1002", "KP1003", "KP1004", "KP1005" }, diagnostics.Select(d => d.Code));
    }

    [Fact]
    public void ExistingDiagnostics_TryCreate_IsNotConfusedByEarlierErrors()
    {
        // The collection is shared by all items of a build; an earlier item's error must not fail this one.
        var diagnostics = new List<Diagnostic> { Diagnostic.Error("KP1001", "earlier item", null) };

        ImageRequest? request = Create(Meta(("Quality", "50")), diagnostics);

        Assert.NotNull(request);
        Assert.Single(diagnostics);
    }

    [Fact]
    public void SurroundingWhitespace_TryCreate_IsTrimmed()
    {
        ImageRequest request = Valid(Meta(("Quality", " 50 "), ("Width", "\t640"), ("Height", "480 "), ("Format", " png")));

        Assert.Equal(new ConversionOptions(ImageFormat.Png, 50, 640, 480), request.Options);
    }

    [Fact]
    public void BoundaryValues_TryCreate_AreAccepted()
    {
        Assert.Equal(1, Valid(Meta(("Quality", "1"))).Options.Quality);
        Assert.Equal(100, Valid(Meta(("Quality", "100"))).Options.Quality);
        Assert.Equal(1, Valid(Meta(("Width", "1"))).Options.Width);
        Assert.Equal(100_000, Valid(Meta(("Height", "100000"))).Options.Height);
    }

    [Fact]
    public void SourceInSubfolder_TryCreate_OutputIsProjectRelativeWithNewExtension()
    {
        string source = Path.Combine(ProjectDirectory, "wwwroot", "img", "photos", "beach.jpeg");

        ImageRequest request = Valid(Meta(("Format", "avif")), source);

        Assert.Equal("wwwroot/img/photos/beach.avif", request.OutputPath);
    }

    [Fact]
    public void SourceWithoutExtensionOrWithDots_TryCreate_OnlyLastExtensionReplaced()
    {
        Assert.Equal("img/logo.webp", Valid(Meta(("Format", "webp")), Path.Combine(ProjectDirectory, "img", "logo")).OutputPath);
        Assert.Equal("img/logo.v2.final.webp", Valid(Meta(("Format", "webp")), Path.Combine(ProjectDirectory, "img", "logo.v2.final.png")).OutputPath);
    }

    [Theory]
    [InlineData("assets/hero.png", "webp", "assets/hero.webp")] // Link's extension is replaced by the format's
    [InlineData("assets/hero", "webp", "assets/hero.webp")]
    [InlineData("hero-large.jpg", "jpg", "hero-large.jpg")]
    [InlineData("assets\\deep\\hero.png", "png", "assets/deep/hero.png")] // backslashes normalised
    public void Link_TryCreate_OverridesOutputPath(string link, string format, string expected)
    {
        ImageRequest request = Valid(Meta(("Link", link), ("Format", format)));

        Assert.Equal(expected, request.OutputPath);
    }

    [Theory]
    [InlineData("./hero.png", "hero.webp")]
    [InlineData("assets/./hero.png", "assets/hero.webp")]
    [InlineData("assets//hero.png", "assets/hero.webp")]
    public void LinkWithDotOrEmptySegments_TryCreate_IsNormalised(string link, string expected)
    {
        // Otherwise "./hero.webp" and "hero.webp" would be two different outputs for the duplicate check (KP1010)
        // and the state file, while both are the same file on disk.
        ImageRequest request = Valid(Meta(("Link", link), ("Format", "webp")));

        Assert.Equal(expected, request.OutputPath);
    }

    [Fact]
    public void SourceOutsideProject_TryCreate_OutputIsFileNameOnly()
    {
        string shared = Path.Combine(Path.GetTempPath(), "koalapic-request", "Shared", "brand", "logo.png");

        ImageRequest request = Valid(Meta(("Format", "webp")), shared);

        Assert.Equal("logo.webp", request.OutputPath);
    }

    [Fact]
    public void SourceInSiblingFolderWithSamePrefix_TryCreate_IsOutsideTheProject()
    {
        // ".../Demo2/x.png" starts with the text ".../Demo" but is not inside the Demo folder.
        string sibling = Path.Combine(Path.GetTempPath(), "koalapic-request", "Demo2", "img", "x.png");

        ImageRequest request = Valid(Meta(), sibling);

        Assert.Equal("x.jpg", request.OutputPath);
    }

    [Fact]
    public void ProjectDirectoryWithTrailingSeparator_TryCreate_GivesSameOutputPath()
    {
        var diagnostics = new List<Diagnostic>();

        ImageRequest? request = ImageRequest.TryCreate(
            "img/hero.png", Hero, ProjectDirectory + Path.DirectorySeparatorChar, _ => "", ProjectFile, diagnostics);

        Assert.Equal("img/hero.jpg", request!.OutputPath);
    }

    [Fact]
    public void ConversionOptions_CacheKeyText_ChangesWithEverySetting()
    {
        var baseline = new ConversionOptions(ImageFormat.Webp, 80, 640, null);
        var variants = new[]
        {
            baseline with { Format = ImageFormat.Avif },
            baseline with { Quality = 81 },
            baseline with { Width = 641 },
            baseline with { Width = null },
            baseline with { Height = 640 },
            baseline with { Fit = FitMode.Cover },
            baseline with { Position = CropPosition.Entropy },
            baseline with { Enlarge = true },
            baseline with { Background = new Colour(0, 0, 0) },
            baseline with { Background = new Colour(255, 255, 255, 0) },
            baseline with { Lossless = true },
            baseline with { SmartQuality = SmartQualityLevel.High },
            baseline with { KeepMetadata = true },
            baseline with { IcoSizes = new[] { 16, 32 } },
            baseline with { Effort = 6 },
        };

        Assert.Equal(
            "format=webp;quality=80;width=640;height=auto;fit=inside;position=center;enlarge=false;background=#ffffff;lossless=false;smart=none;keepmetadata=false;icosizes=16,32,48,64,128,256;effort=4",
            baseline.CacheKeyText);
        Assert.All(variants, v => Assert.NotEqual(baseline.CacheKeyText, v.CacheKeyText));
        Assert.Equal(variants.Length, variants.Select(v => v.CacheKeyText).Distinct().Count());
    }
}
