using KoalaPic.Build.Engine;
using Xunit;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>The metadata beyond Format/Quality/Width/Height/Link: fit, colour, smart quality, icons and presets.</summary>
public class MetadataTests
{
    private static readonly string ProjectDirectory = Path.Combine(Path.GetTempPath(), "koalapic-metadata", "Demo");
    private static readonly string ProjectFile = Path.Combine(ProjectDirectory, "Demo.csproj");

    private static (ImageRequest? Request, List<Diagnostic> Diagnostics) Create(params (string Name, string Value)[] metadata)
    {
        var diagnostics = new List<Diagnostic>();
        var values = metadata.ToDictionary(p => p.Name, p => p.Value);
        ImageRequest? request = ImageRequest.TryCreate(
            "img/photo.jpg",
            Path.Combine(ProjectDirectory, "img", "photo.jpg"),
            ProjectDirectory,
            name => values.TryGetValue(name, out string? value) ? value : "",
            ProjectFile,
            diagnostics);
        return (request, diagnostics);
    }

    private static ConversionOptions Valid(params (string Name, string Value)[] metadata)
    {
        var (request, diagnostics) = Create(metadata);
        Assert.Empty(diagnostics);
        return request!.Options;
    }

    [Theory]
    [InlineData("jpg", ImageFormat.Jpeg, ".jpg")]
    [InlineData("JPEG", ImageFormat.Jpeg, ".jpg")]
    [InlineData("png", ImageFormat.Png, ".png")]
    [InlineData("webp", ImageFormat.Webp, ".webp")]
    [InlineData("avif", ImageFormat.Avif, ".avif")]
    [InlineData("gif", ImageFormat.Gif, ".gif")]
    [InlineData("ico", ImageFormat.Ico, ".ico")]
    [InlineData("bmp", ImageFormat.Bmp, ".bmp")]
    [InlineData("tiff", ImageFormat.Tiff, ".tiff")]
    [InlineData("tif", ImageFormat.Tiff, ".tiff")]
    [InlineData("pdf", ImageFormat.Pdf, ".pdf")]
    [InlineData("heic", ImageFormat.Heic, ".heic")]
    [InlineData("heif", ImageFormat.Heic, ".heic")]
    [InlineData("svg", ImageFormat.Svg, ".svg")]
    public void EveryFormatAndAlias_TryCreate_GivesFormatAndExtension(string value, ImageFormat format, string extension)
    {
        var (request, diagnostics) = Create(("Format", value));

        Assert.Empty(diagnostics);
        Assert.Equal(format, request!.Options.Format);
        Assert.Equal("img/photo" + extension, request.OutputPath);
    }

    [Fact]
    public void NewMetadata_TryCreate_ParsesEachValue()
    {
        ConversionOptions options = Valid(
            ("Format", "webp"),
            ("Width", "400"),
            ("Height", "300"),
            ("Fit", "Cover"),
            ("Position", "attention"),
            ("Enlarge", "true"),
            ("Background", "#102030"),
            ("SmartQuality", "medium"),
            ("KeepMetadata", "true"));

        Assert.Equal(FitMode.Cover, options.Fit);
        Assert.Equal(CropPosition.Attention, options.Position);
        Assert.True(options.Enlarge);
        Assert.Equal(new Colour(0x10, 0x20, 0x30), options.Background);
        Assert.Equal(SmartQualityLevel.Medium, options.SmartQuality);
        Assert.True(options.KeepMetadata);
    }

    [Theory]
    [InlineData("#fff", 255, 255, 255, 255)]
    [InlineData("#000000", 0, 0, 0, 255)]
    [InlineData("#ff000080", 255, 0, 0, 128)]
    [InlineData("transparent", 255, 255, 255, 0)]
    [InlineData("Black", 0, 0, 0, 255)]
    public void Background_TryCreate_ParsesColours(string value, int r, int g, int b, int a)
    {
        Assert.Equal(new Colour((byte)r, (byte)g, (byte)b, (byte)a), Valid(("Background", value)).Background);
    }

    [Theory]
    [InlineData("Fit", "stretch", "KP1006", "inside (default), outside, cover, contain, fill")]
    [InlineData("Fit", "1", "KP1006", "inside (default), outside, cover, contain, fill")]
    [InlineData("Position", "top", "KP1007", "center (default), centre, attention, entropy")]
    [InlineData("Enlarge", "yes", "KP1008", "true or false (default)")]
    [InlineData("Background", "red", "KP1009", "#rgb, #rrggbb, #rrggbbaa, white (default), black or transparent")]
    [InlineData("Background", "#12345", "KP1009", "#rgb, #rrggbb, #rrggbbaa, white (default), black or transparent")]
    [InlineData("Lossless", "1", "KP1011", "true or false (default)")]
    [InlineData("SmartQuality", "best", "KP1012", "low, medium, high, or empty for the fixed Quality")]
    [InlineData("KeepMetadata", "all", "KP1013", "true or false (default)")]
    [InlineData("IcoSizes", "16;512", "KP1014", "sizes from 1 to 256 separated by ';' or ',', such as 16;32;48")]
    [InlineData("IcoSizes", "big", "KP1014", "sizes from 1 to 256 separated by ';' or ',', such as 16;32;48")]
    public void InvalidValue_TryCreate_ReportsCodeValueAndAcceptedValues(string name, string value, string code, string accepted)
    {
        var (request, diagnostics) = Create((name, value));

        Assert.Null(request);
        Diagnostic d = Assert.Single(diagnostics);
        Assert.Equal(code, d.Code);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal($"KoalaImage 'img/photo.jpg': {name}=\"{value}\" is not valid. Accepted values: {accepted}.", d.Message);
        Assert.Equal(ProjectFile, d.File);
    }

    [Fact]
    public void IcoSizes_TryCreate_AcceptsEitherSeparatorAndSortsAndDeduplicates()
    {
        Assert.Equal(new[] { 16, 32, 48 }, Valid(("IcoSizes", "48,16; 32;16")).IcoSizes);
    }

    [Fact]
    public void QualityAndSmartQuality_TryCreate_WarnsThatSmartQualityWins()
    {
        var (request, diagnostics) = Create(("Format", "webp"), ("Quality", "70"), ("SmartQuality", "high"));

        Diagnostic d = Assert.Single(diagnostics);
        Assert.Equal(("KP1020", DiagnosticSeverity.Warning), (d.Code, d.Severity));
        Assert.Contains("SmartQuality wins and Quality is ignored", d.Message);
        Assert.Equal(SmartQualityLevel.High, request!.Options.SmartQuality);
    }

    [Fact]
    public void SmartQualityOnPng_TryCreate_WarnsAndUsesQuality()
    {
        var (request, diagnostics) = Create(("Format", "png"), ("SmartQuality", "low"));

        Diagnostic d = Assert.Single(diagnostics);
        Assert.Equal(("KP1021", DiagnosticSeverity.Warning), (d.Code, d.Severity));
        Assert.Contains("has no effect on png output", d.Message);
        Assert.Equal(SmartQualityLevel.None, request!.Options.SmartQuality);
    }

    [Fact]
    public void LosslessWebp_TryCreate_IsLossless()
    {
        Assert.True(Valid(("Format", "webp"), ("Lossless", "TRUE")).Lossless);
    }

    [Fact]
    public void SmartQualityWithLossless_TryCreate_WarnsAndStaysLossless()
    {
        var (request, diagnostics) = Create(("Format", "webp"), ("Lossless", "true"), ("SmartQuality", "high"));

        Diagnostic d = Assert.Single(diagnostics);
        Assert.Equal(("KP1021", DiagnosticSeverity.Warning), (d.Code, d.Severity));
        Assert.Contains("has no effect with Lossless=\"true\"", d.Message);
        Assert.Equal((true, SmartQualityLevel.None), (request!.Options.Lossless, request.Options.SmartQuality));
    }

    [Fact]
    public void LosslessJpg_TryCreate_Warns()
    {
        var (request, diagnostics) = Create(("Lossless", "true"));

        Assert.Equal("KP1022", Assert.Single(diagnostics).Code);
        Assert.False(request!.Options.Lossless);
    }

    [Theory]
    [InlineData("instagram-square", 1080, 1080, ImageFormat.Jpeg)]
    [InlineData("instagram-portrait", 1080, 1350, ImageFormat.Jpeg)]
    [InlineData("instagram-story", 1080, 1920, ImageFormat.Jpeg)]
    [InlineData("facebook-post", 1200, 630, ImageFormat.Jpeg)]
    [InlineData("facebook-cover", 851, 315, ImageFormat.Jpeg)]
    [InlineData("x-post", 1600, 900, ImageFormat.Jpeg)]
    [InlineData("x-header", 1500, 500, ImageFormat.Jpeg)]
    [InlineData("linkedin-post", 1200, 627, ImageFormat.Jpeg)]
    [InlineData("linkedin-banner", 1584, 396, ImageFormat.Jpeg)]
    [InlineData("pinterest-pin", 1000, 1500, ImageFormat.Jpeg)]
    [InlineData("youtube-thumbnail", 1280, 720, ImageFormat.Jpeg)]
    [InlineData("youtube-banner", 2560, 1440, ImageFormat.Jpeg)]
    [InlineData("tiktok-cover", 1080, 1920, ImageFormat.Jpeg)]
    [InlineData("open-graph", 1200, 630, ImageFormat.Jpeg)]
    [InlineData("web-thumbnail", 400, 400, ImageFormat.Webp)]
    [InlineData("apple-touch-icon", 180, 180, ImageFormat.Png)]
    [InlineData("pwa-icon", 512, 512, ImageFormat.Png)]
    public void ExactSizePreset_TryCreate_SetsCoverSizeFormatAndEnlarge(string preset, int width, int height, ImageFormat format)
    {
        ConversionOptions options = Valid(("OptimizeFor", preset));

        Assert.Equal((width, height, FitMode.Cover, format, true), (options.Width!.Value, options.Height!.Value, options.Fit, options.Format, options.Enlarge));
    }

    [Theory]
    [InlineData("email", 600, ImageFormat.Jpeg)]
    [InlineData("web-hero", 1920, ImageFormat.Webp)]
    public void WidthOnlyPreset_TryCreate_FitsInsideWithoutEnlarging(string preset, int width, ImageFormat format)
    {
        ConversionOptions options = Valid(("OptimizeFor", preset));

        Assert.Equal((width, (int?)null, FitMode.Inside, format, false), (options.Width!.Value, options.Height, options.Fit, options.Format, options.Enlarge));
    }

    [Fact]
    public void FaviconPreset_TryCreate_IsAnIcoWithThreeSizes()
    {
        ConversionOptions options = Valid(("OptimizeFor", "Favicon"));

        Assert.Equal(ImageFormat.Ico, options.Format);
        Assert.Equal(new[] { 16, 32, 48 }, options.IcoSizes);
    }

    [Fact]
    public void Presets_AreTheTwentyOfTheApi()
    {
        Assert.Equal(20, Presets.All.Count);
        Assert.Equal(20, Presets.All.Select(p => p.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void ExplicitMetadata_TryCreate_WinsOverPreset()
    {
        ConversionOptions options = Valid(("OptimizeFor", "instagram-story"), ("Format", "webp"), ("Width", "540"), ("Fit", "contain"), ("Enlarge", "false"));

        Assert.Equal((ImageFormat.Webp, 540, 1920, FitMode.Contain, false), (options.Format, options.Width!.Value, options.Height!.Value, options.Fit, options.Enlarge));
    }

    [Fact]
    public void UnknownPreset_TryCreate_ListsTheValidOnes()
    {
        var (request, diagnostics) = Create(("OptimizeFor", "myspace"));

        Assert.Null(request);
        Diagnostic d = Assert.Single(diagnostics);
        Assert.Equal("KP1015", d.Code);
        Assert.Contains("OptimizeFor=\"myspace\" is not valid", d.Message);
        foreach (Preset preset in Presets.All)
        {
            Assert.Contains(preset.Name, d.Message);
        }
    }
}

/// <summary>Every item, option and result survives the trip to the koalapic process and back.</summary>
public class JobProtocolTests
{
    [Fact]
    public void ItemWithEveryMetadata_SerializeDeserialize_ParsesToTheSameCacheKey()
    {
        JobItem item = BatchWorkspace.Item(
            "img/a.png",
            ("Format", "ico"), ("Quality", "42"), ("Width", "300"), ("Height", "200"), ("Fit", "contain"), ("Position", "attention"),
            ("Enlarge", "true"), ("Background", "#01020304"), ("Lossless", "true"), ("SmartQuality", "low"), ("KeepMetadata", "true"),
            ("IcoSizes", "16;24"));
        var input = new JobInput { Items = { item }, Properties = { [JobSettings.MaxPixels] = "1000" }, ProjectDirectory = "/p" };

        JobInput back = JobProtocol.Deserialize<JobInput>(JobProtocol.Serialize(input))!;

        Assert.Equal(Parse(item).Options.CacheKeyText, Parse(Assert.Single(back.Items)).Options.CacheKeyText);
        Assert.Equal("1000", back.Properties["koalapicmaxpixels"]);

        static ImageRequest Parse(JobItem i)
        {
            var diagnostics = new List<Diagnostic>();
            ImageRequest? request = ImageRequest.TryCreate(i.ItemSpec, "/p/" + i.ItemSpec, "/p", i.Get, "/p/p.csproj", diagnostics);
            Assert.True(request != null, string.Join("\n", diagnostics));
            return request!;
        }
    }

    [Fact]
    public void Result_SerializeDeserialize_KeepsDiagnosticsOutputsAndLog()
    {
        var result = new JobResult
        {
            Diagnostics = { Diagnostic.Error("KP2002", "KoalaImage 'a.png': broken", "/p/a.png"), Diagnostic.Warning("KP2013", "larger", "/p/b.png") },
            Outputs = { new JobOutput("/p/obj/koalapic/out/b.webp", "b.webp", "b.png", "webp", 10, 20) },
            Log = { new JobLog(JobLogLevel.High, "KoalaPic: 2 images") },
            WrittenFiles = { "/p/bin/images.zip" },
        };

        JobResult back = JobProtocol.Deserialize<JobResult>(JobProtocol.Serialize(result))!;

        Assert.Equal(result.Diagnostics, back.Diagnostics);
        Assert.Equal(result.Outputs, back.Outputs);
        Assert.Equal(result.Log, back.Log);
        Assert.Equal(result.WrittenFiles, back.WrittenFiles);
        Assert.False(back.Succeeded);
    }
}
