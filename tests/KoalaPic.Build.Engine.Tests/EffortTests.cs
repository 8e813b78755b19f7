using KoalaPic.Build.Engine;
using KoalaPic.Build.Tests;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// The Effort metadata: each format's range and default from its descriptor, the KP1024 error and KP1025 warning, the
/// cache key, and that the number reaches each encoder (different efforts give different bytes of the same picture).
/// </summary>
public class EffortTests
{
    private const string ProjectFile = "/p/p.csproj";
    private const string Photo = "2569067123_aca715a2ee_o.jpg";

    private static IReadOnlyList<ImageRequest>? Variants(string format, string effort, List<Diagnostic> diagnostics, string itemSpec = "img/a.png") =>
        ImageVariants.TryCreate(itemSpec, "/p/" + itemSpec, "/p", name => name switch { "Format" => format, "Effort" => effort, _ => "" }, ProjectFile, diagnostics);

    [Theory]
    [InlineData(ImageFormat.Avif, 0, 9)]
    [InlineData(ImageFormat.Heic, 0, 9)]
    [InlineData(ImageFormat.Webp, 0, 6)]
    [InlineData(ImageFormat.Png, 0, 9)]
    [InlineData(ImageFormat.Jxl, 1, 9)]
    public void Descriptor_HoldsTheEncodersRange_WithTheDefaultInside(ImageFormat format, int min, int max)
    {
        FormatEffort knob = Assert.IsType<FormatEffort>(ImageFormats.Of(format).Effort);

        Assert.Equal((min, max), (knob.Min, knob.Max));
        Assert.True(knob.Accepts(knob.Default));
        Assert.Equal(knob.Default, new ConversionOptions(format, 80, null, null).EncoderEffort);
    }

    [Theory]
    [InlineData(ImageFormat.Jpeg)]
    [InlineData(ImageFormat.Gif)]
    [InlineData(ImageFormat.Tiff)]
    [InlineData(ImageFormat.Ico)]
    public void FormatsWithoutAnEffortSetting_HaveNoKnob(ImageFormat format)
    {
        Assert.Null(ImageFormats.Of(format).Effort);
        Assert.Null(new ConversionOptions(format, 80, null, null) { Effort = 3 }.EncoderEffort);
    }

    [Theory]
    [InlineData("avif", "0", 0)]
    [InlineData("avif", " 9 ", 9)]
    [InlineData("heic", "2", 2)]
    [InlineData("webp", "6", 6)]
    [InlineData("png", "1", 1)]
    [InlineData("jxl", "3", 3)]
    public void Effort_InTheFormatsRange_ReachesTheOptions(string format, string text, int expected)
    {
        var diagnostics = new List<Diagnostic>();

        ImageRequest request = Assert.Single(Variants(format, text, diagnostics)!);

        Assert.Empty(diagnostics);
        Assert.Equal(expected, request.Options.Effort);
        Assert.Equal(expected, request.Options.EncoderEffort);
    }

    [Theory]
    [InlineData("fast")]
    [InlineData("-1")]
    [InlineData("2.5")]
    [InlineData("10")]
    public void Effort_ThatNoFormatTakes_IsKP1024_WithEveryFormatsRange(string text)
    {
        var diagnostics = new List<Diagnostic>();

        Assert.Null(Variants("avif", text, diagnostics));

        Diagnostic d = Assert.Single(diagnostics);
        Assert.Equal((DiagnosticCodes.InvalidEffort, DiagnosticSeverity.Error, ProjectFile), (d.Code, d.Severity, d.File));
        Assert.Equal(
            $"KoalaImage 'img/a.png': Effort=\"{text}\" is not valid. Accepted values: a whole number, higher is slower and smaller: "
            + $"png 0 to 9 (default 9), webp 0 to 6 (default 4), avif {FormatDescriptor.Avif.Effort!.RangeText}, heic 0 to 9 (default 6), jxl 1 to 9 (default 7); other formats have no effort setting.",
            d.Message);
    }

    [Theory]
    [InlineData("webp", "7", "webp", "0 to 6 (default 4)")]
    [InlineData("jxl", "0", "jxl", "1 to 9 (default 7)")]
    [InlineData("avif;webp", "8", "webp", "0 to 6 (default 4)")]
    public void Effort_OutsideOneFormatsRange_IsKP1024_NamingThatFormat(string formats, string text, string format, string range)
    {
        var diagnostics = new List<Diagnostic>();

        Assert.Null(Variants(formats, text, diagnostics));

        Diagnostic d = Assert.Single(diagnostics);
        Assert.Equal(DiagnosticCodes.InvalidEffort, d.Code);
        Assert.Equal($"KoalaImage 'img/a.png': Effort=\"{text}\" is not valid for {format} output. Accepted values for {format}: {range}.", d.Message);
    }

    [Fact]
    public void InvalidEffort_OnManyItemsOfOneDefinition_IsOneError()
    {
        var perItem = new List<(string, Diagnostic)>();
        foreach (string item in new[] { "img/a.png", "img/b.png", "img/c.png", "img/d.png", "img/e.png" })
        {
            var diagnostics = new List<Diagnostic>();
            Variants("webp", "9", diagnostics, item);
            perItem.Add((item, Assert.Single(diagnostics)));
        }

        Diagnostic grouped = Assert.Single(ItemDiagnostics.Group(perItem));

        Assert.Equal(
            "KoalaImage items 'img/a.png', 'img/b.png', 'img/c.png' and 2 more: Effort=\"9\" is not valid for webp output. Accepted values for webp: 0 to 6 (default 4).",
            grouped.Message);
    }

    [Theory]
    [InlineData("jpg")]
    [InlineData("gif;tiff")]
    public void Effort_OnAnItemWithoutAnyEffortSetting_IsWarnedAboutOnce_AndIgnored(string formats)
    {
        var diagnostics = new List<Diagnostic>();

        IReadOnlyList<ImageRequest> requests = Variants(formats, "3", diagnostics)!;

        Assert.All(diagnostics, d => Assert.Equal((DiagnosticCodes.EffortIgnored, DiagnosticSeverity.Warning), (d.Code, d.Severity)));
        Assert.Equal(formats.Split(';').Length, diagnostics.Count);
        Assert.StartsWith($"KoalaImage 'img/a.png': Effort=\"3\" has no effect on {formats.Split(';')[0]} output (it applies to png, webp, avif, heic and jxl).", diagnostics[0].Message);
        Assert.All(requests, r => Assert.Null(r.Options.Effort));
    }

    [Fact]
    public void Effort_OnAnItemWhereSomeFormatTakesIt_IsNotWarnedAbout_ForTheOthers()
    {
        var diagnostics = new List<Diagnostic>();

        IReadOnlyList<ImageRequest> requests = Variants("avif;jpg", "2", diagnostics)!;

        Assert.Empty(diagnostics);
        Assert.Equal(2, requests.Single(r => r.Options.Format == ImageFormat.Avif).Options.EncoderEffort);
        Assert.Null(requests.Single(r => r.Options.Format == ImageFormat.Jpeg).Options.EncoderEffort);
    }

    [Fact]
    public void CacheKey_HasTheEffortTheEncoderGets()
    {
        string Key(string format, string effort) => Assert.Single(Variants(format, effort, new List<Diagnostic>())!).Options.CacheKeyText;
        string avifDefault = FormatDescriptor.Avif.Effort!.Default.ToString(System.Globalization.CultureInfo.InvariantCulture);

        Assert.NotEqual(Key("avif", "2"), Key("avif", "3"));
        // Unset is the default: one output, one cache entry, and a new default converts again.
        Assert.Equal(Key("avif", ""), Key("avif", avifDefault));
        Assert.EndsWith(";effort=" + avifDefault, Key("avif", ""));
        // An ignored Effort does not split the cache.
        Assert.Equal(Key("jpg", ""), Key("jpg", "3"));
        Assert.EndsWith(";effort=none", Key("jpg", ""));
    }

    /// <summary>A small crop of the photo keeps the slowest efforts quick and still gives the encoders detail to work on.</summary>
    private static byte[] Encode(ImageFormat format, int effort, bool lossless = false) =>
        Convert(FixtureBytes(Photo), new ConversionOptions(format, 60, 160, null) { Effort = effort, Lossless = lossless }).Bytes;

    [Theory]
    [InlineData(ImageFormat.Avif, 0, 9)]
    [InlineData(ImageFormat.Avif, 2, 4)]
    [InlineData(ImageFormat.Webp, 0, 6)]
    [InlineData(ImageFormat.Jxl, 1, 9)]
    public void Effort_ReachesTheLossyEncoder(ImageFormat format, int low, int high)
    {
        byte[] fast = Encode(format, low);
        byte[] slow = Encode(format, high);
        byte[] slowAgain = Encode(format, high);

        Assert.NotEqual(fast, slow);
        // The difference is the effort's, not the encoder's own variation: aom's bytes can differ a little between two
        // encodes at one effort with the number of threads libvips gives it, which tests running at once change.
        int variation = Math.Abs(slow.Length - slowAgain.Length);
        Assert.True(
            Math.Abs(fast.Length - slow.Length) > 4 * variation,
            $"effort {low}: {fast.Length} bytes, effort {high}: {slow.Length} and {slowAgain.Length} bytes");
    }

    [Fact]
    public void Effort_OnPng_IsItsCompression_SmallerBytesOfTheSamePixels()
    {
        byte[] stored = Encode(ImageFormat.Png, 0, lossless: true);
        byte[] deflated = Encode(ImageFormat.Png, 9, lossless: true);

        Assert.True(deflated.Length < stored.Length, $"compression 9: {deflated.Length} bytes, compression 0: {stored.Length}");
        using Image a = Image.NewFromBuffer(stored);
        using Image b = Image.NewFromBuffer(deflated);
        Assert.Equal(0, MeanAbsDiff(a, b));
    }

    /// <summary>Not avif: aom's bytes may vary with the thread count between two encodes (see above); its unset effort is checked through <see cref="ConversionOptions.EncoderEffort"/>.</summary>
    [Fact]
    public void Effort_Unset_IsTheDescriptorsDefault()
    {
        foreach (ImageFormat format in new[] { ImageFormat.Webp, ImageFormat.Png })
        {
            byte[] unset = Convert(FixtureBytes(Photo), new ConversionOptions(format, 60, 160, null)).Bytes;

            Assert.Equal(Encode(format, ImageFormats.Of(format).Effort!.Default), unset);
        }
    }

    [SkippableFact]
    public void Effort_ReachesTheHeicEncoder_AsX265sPreset()
    {
        SystemRequirement.Require(HeicEncoder.IsAvailable(out string reason), "libheif's x265 HEVC encoder is missing: " + reason);
        VipsRuntime.EnsureInitialized();
        using Image thumbnail = Image.ThumbnailBuffer(FixtureBytes(Photo), 160);
        using Image photo = thumbnail.CopyMemory();

        byte[] ultrafast = HeicEncoder.Encode(photo, 50, lossless: false, effort: 0);
        byte[] placebo = HeicEncoder.Encode(photo, 50, lossless: false, effort: 9);
        byte[] unset = HeicEncoder.Encode(photo, 50, lossless: false);

        Assert.NotEqual(ultrafast, placebo);
        Assert.Equal(HeicEncoder.Encode(photo, 50, lossless: false, effort: FormatDescriptor.Heic.Effort!.Default), unset);
    }
}
