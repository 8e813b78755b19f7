using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// Several outputs of one source from one decode (<see cref="ImageConverter.Decode"/>): the same sizes, formats and
/// frames as each converted on its own, and the same pixels wherever it would have loaded the source the same way.
/// </summary>
public class DecodedSourceTests
{
    /// <summary>A responsive job: three widths in two formats, and a cover crop and a forced fill with a Height.</summary>
    private static List<ConversionOptions> Responsive() =>
    [
        new(ImageFormat.Webp, 80, 300, null),
        new(ImageFormat.Webp, 80, 150, null),
        new(ImageFormat.Jpeg, 80, 300, null),
        new(ImageFormat.Jpeg, 80, 150, null),
        new(ImageFormat.Png, 100, 77, null),
        new(ImageFormat.Jpeg, 80, 120, 90) { Fit = FitMode.Cover },
        new(ImageFormat.Webp, 80, 101, 37) { Fit = FitMode.Fill },
    ];

    [Theory]
    [InlineData("Landscape_1.jpg")] // JPEG: shrink-on-load
    [InlineData("Landscape_6.jpg")] // EXIF orientation 6: the shared pixels are upright, not turned twice
    [InlineData("Channel_digital_image_CMYK_color.jpg")] // CMYK with a profile
    [InlineData("prophoto.png")] // ICC profile converted once
    [InlineData("Flag_of_the_Netherlands-16bit.png")] // 16-bit PNG, no shrink-on-load
    [InlineData("with-alpha.png")]
    [InlineData("uncompressed_tiff.tiff")] // TIFF, no shrink-on-load
    [InlineData("check.svg")] // drawn at the largest size, never rasterised for the svg output
    [InlineData("2569067123_aca715a2ee_o.jpg")]
    public void Decode_SeveralOutputs_DecodesOncePerLoadAndMatchesEachConvertedAlone(string fixture)
    {
        byte[] source = FixtureBytes(fixture);
        List<ConversionOptions> variants = Responsive();

        using DecodedSource decoded = ImageConverter.Decode(source, variants);

        // One decode for each way the outputs load the source (JPEG shrunk on load by 1, 1/2, …; the rest whole).
        Assert.InRange(decoded.Decodes, 1, 2);
        foreach (ConversionOptions options in variants)
        {
            EncodedImage shared = decoded.Encode(options);
            EncodedImage alone = ImageConverter.Convert(source, options);
            Assert.Equal((alone.Width, alone.Height, alone.Frames, alone.SourceWidth), (shared.Width, shared.Height, shared.Frames, shared.SourceWidth));
            Assert.Equal(Image.FindLoadBuffer(alone.Bytes), Image.FindLoadBuffer(shared.Bytes));
            // As close to the pixels the output is encoded from, by the engine's own metric, as the output made alone
            // (the same bytes: Decode_EachOutput_IsTheOutputMadeAlone).
            using Image reference = Rgb(DecodeAs(ImageConverter.Convert(source, options with { Format = ImageFormat.Png, Lossless = true }), ImageFormat.Png));
            double aloneDistance = SmartQuality.Distance(reference, Rgb(DecodeAs(alone, options.Format)));
            double sharedDistance = SmartQuality.Distance(reference, Rgb(DecodeAs(shared, options.Format)));
            Assert.True(sharedDistance <= aloneDistance + 0.03, $"{fixture} {options.Format} {options.Width}x{options.Height}: alone {aloneDistance:F3}, shared {sharedDistance:F3}");
        }
    }

    /// <summary>
    /// Outputs that load the source the same way share one decode of it, and each is thumbnailed from that decode as it
    /// is from the source alone, never from another output: every output's bytes are those it has when made alone.
    /// </summary>
    [Theory]
    [InlineData("Landscape_1.jpg")] // JPEG: 300 wide loaded whole, the rest at 1/2
    [InlineData("Landscape_6.jpg")]
    [InlineData("Channel_digital_image_CMYK_color.jpg")]
    [InlineData("2569067123_aca715a2ee_o.jpg")] // 2725 wide: loaded at 1/8 or 1/4
    [InlineData("prophoto.png")] // no shrink-on-load: one decode for all
    [InlineData("Flag_of_the_Netherlands-16bit.png")]
    [InlineData("with-alpha.png")]
    [InlineData("uncompressed_tiff.tiff")]
    [InlineData("4.webp")] // WebP: one decode per scale, shared by the formats of one size
    [InlineData("5_webp_a.webp")]
    [InlineData("check.svg")]
    [InlineData("animated-loop-3.gif")]
    public void Decode_EachOutput_IsTheOutputMadeAlone(string fixture)
    {
        byte[] source = FixtureBytes(fixture);
        List<ConversionOptions> variants = Responsive();

        using DecodedSource decoded = ImageConverter.Decode(source, variants);

        Assert.InRange(decoded.Decodes, 1, variants.Count / 2);
        Assert.True(decoded.PixelsHeld > 0);
        foreach (ConversionOptions options in variants)
        {
            EncodedImage shared = decoded.Encode(options);
            EncodedImage alone = ImageConverter.Convert(source, options);
            Assert.True(alone.Bytes.AsSpan().SequenceEqual(shared.Bytes), $"{fixture} {options.Format} {options.Width}x{options.Height} {options.Fit}: not the bytes made alone");
        }
    }

    [Fact]
    public void Decode_OneOutput_DecodesNothingAhead()
    {
        byte[] source = FixtureBytes("Landscape_1.jpg");
        var options = new ConversionOptions(ImageFormat.Webp, 80, 200, null);

        using DecodedSource decoded = ImageConverter.Decode(source, new[] { options });

        Assert.Equal(0, decoded.Decodes);
        Assert.Equal(0, decoded.PixelsHeld);
        Assert.Equal(ImageConverter.Convert(source, options).Bytes, decoded.Encode(options).Bytes);
    }

    /// <summary>
    /// The shared pixels are the source as the outputs that share them load it alone: a 600-wide JPEG at 1/2 for 140
    /// wide outputs and at 1/4 for 70 wide ones, not whole, nor at the outputs' own sizes.
    /// </summary>
    [Fact]
    public void Decode_SharedPixels_AreTheSourceShrunkOnLoadAsEachOutputLoadsIt()
    {
        byte[] source = FixtureBytes("Landscape_1.jpg"); // 600x450
        var variants = new[]
        {
            new ConversionOptions(ImageFormat.Webp, 80, 140, null), new ConversionOptions(ImageFormat.Jpeg, 80, 140, null),
            new ConversionOptions(ImageFormat.Webp, 80, 70, null), new ConversionOptions(ImageFormat.Jpeg, 80, 70, null),
        };

        using DecodedSource decoded = ImageConverter.Decode(source, variants);

        Assert.Equal(2, decoded.Decodes);
        Assert.Equal((300 * 225) + (150 * 112), decoded.PixelsHeld);
    }

    [Fact]
    public void Decode_AnimatedGifToWebpAndJpeg_DecodesEveryFrameOnceAndTheFirstFrameOnce()
    {
        byte[] source = FixtureBytes("animated-loop-3.gif");
        var variants = new List<ConversionOptions>
        {
            new(ImageFormat.Webp, 80, 200, null),
            new(ImageFormat.Webp, 80, 100, null),
            new(ImageFormat.Jpeg, 80, 200, null),
            new(ImageFormat.Jpeg, 80, 100, null),
        };

        using DecodedSource decoded = ImageConverter.Decode(source, variants);

        Assert.Equal(2, decoded.Decodes);
        foreach (ConversionOptions options in variants)
        {
            EncodedImage shared = decoded.Encode(options);
            EncodedImage alone = ImageConverter.Convert(source, options);
            Assert.Equal((alone.Width, alone.Height, alone.Frames), (shared.Width, shared.Height, shared.Frames));
        }
    }

    [Fact]
    public void Decode_TruncatedSource_EveryOutputFailsWithTheDecodeError()
    {
        byte[] source = FixtureBytes("truncated.jpg");
        var variants = new[] { new ConversionOptions(ImageFormat.Webp, 80, 200, null), new ConversionOptions(ImageFormat.Png, 80, 100, null) };

        using DecodedSource decoded = ImageConverter.Decode(source, variants);

        foreach (ConversionOptions options in variants)
        {
            var alone = Assert.Throws<ImageConversionException>(() => ImageConverter.Convert(source, options));
            var shared = Assert.Throws<ImageConversionException>(() => decoded.Encode(options));
            Assert.Equal(alone.Code, shared.Code);
        }
    }

    [Fact]
    public void Decode_OneOutputOverThePixelLimit_FailsAloneAndTheOthersAreMade()
    {
        byte[] source = FixtureBytes("Landscape_1.jpg");
        var small = new ConversionOptions(ImageFormat.Webp, 80, 100, null);
        var huge = new ConversionOptions(ImageFormat.Webp, 80, 5000, null) { Enlarge = true };
        const long limit = 600 * 450 + 1;

        using DecodedSource decoded = ImageConverter.Decode(source, new[] { small, huge, small with { Format = ImageFormat.Jpeg } }, limit);

        Assert.Equal(100, decoded.Encode(small).Width);
        var ex = Assert.Throws<ImageConversionException>(() => decoded.Encode(huge));
        Assert.Equal(DiagnosticCodes.OutputTooManyPixels, ex.Code);
        // Sized by the 100-wide outputs alone (loaded at 1/2), not by the one too large to make.
        Assert.Equal(300 * 225, decoded.PixelsHeld);
    }

    [Fact]
    public void Decode_SvgSourceKeptAsSvg_IsNotDecodedForIt()
    {
        byte[] source = FixtureBytes("circle.svg");
        var variants = new[] { new ConversionOptions(ImageFormat.Svg, 80, 100, null), new ConversionOptions(ImageFormat.Png, 80, 100, null) };

        using DecodedSource decoded = ImageConverter.Decode(source, variants);

        Assert.Equal(0, decoded.Decodes);
        Assert.Equal(ImageConverter.Convert(source, variants[0]).Bytes, decoded.Encode(variants[0]).Bytes);
    }
}
