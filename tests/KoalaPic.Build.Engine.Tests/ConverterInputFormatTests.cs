using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>Every input format KoalaPic reads: SVG, TIFF, GIF, AVIF, WebP (JPEG and PNG are everywhere else).</summary>
public class ConverterInputFormatTests
{
    public static TheoryData<string, int, int> RasterInputs => new()
    {
        // file, size at width 200 (or the original size if smaller)
        { "uncompressed_tiff.tiff", 200, 280 }, // 246x345 uncompressed RGB TIFF
        { "G31D_MULTI.TIF", 200, 264 }, // 2464x3248 1-bit CCITT G3 fax, two pages: the first is used
        { "animated-loop-3.gif", 200, 154 }, // 370x285 animated GIF: the first frame
        { "sdr_cosmos12920_cicp1-13-6_yuv444_full_qp10.avif", 200, 84 }, // 2048x858 AVIF
        { "4.webp", 200, 151 }, // 1024x772 lossy WebP
        { "5_webp_a.webp", 200, 200 }, // 300x300 WebP with alpha
        { "flowers.jpeg", 200, 113 },
    };

    [Theory]
    [MemberData(nameof(RasterInputs))]
    public void RasterInput_ToLosslessPng_IsReadAndMatchesReference(string file, int width, int height)
    {
        byte[] source = FixtureBytes(file);

        EncodedImage encoded = Convert(source, ImageFormat.Png, width: 200, quality: 100);

        using Image decoded = DecodeAs(encoded, ImageFormat.Png);
        Assert.Equal((width, height), (decoded.Width, decoded.Height));

        // Lossless output against libvips' own first-page thumbnail: the reading is all that differs (measured 0).
        // A blank, grey, wrong-page or wrongly decoded output is tens of levels away.
        using Image reference = ReferenceInBox(source, 200, null);
        double difference = MeanAbsDiff(Rgb(decoded), reference);
        Assert.True(difference < 1, $"{file}: mean absolute difference {difference:F2}");
        Assert.True(Rgb(decoded).Deviate() > 5, $"{file}: the output is flat, not a picture");
    }

    [Theory]
    [InlineData("4.webp")]
    [InlineData("sdr_cosmos12920_cicp1-13-6_yuv444_full_qp10.avif")]
    [InlineData("uncompressed_tiff.tiff")]
    [InlineData("animated-loop-3.gif")]
    public void RasterInput_ToEveryFormat_Succeeds(string file)
    {
        byte[] source = FixtureBytes(file);

        // Formats written by libvips; the others have tests of their own encoders.
        foreach (ImageFormat format in new[] { ImageFormat.Jpeg, ImageFormat.Png, ImageFormat.Webp, ImageFormat.Avif, ImageFormat.Gif, ImageFormat.Tiff })
        {
            EncodedImage encoded = Convert(source, format, width: 64);
            using Image decoded = DecodeAs(encoded, format);
            Assert.Equal(64, decoded.Width);
        }
    }

    [Theory]
    [InlineData(ImageFormat.Tiff)]
    [InlineData(ImageFormat.Gif)]
    [InlineData(ImageFormat.Webp)]
    public void MultiPageInput_ToStillFormat_UsesFirstPageOnly(ImageFormat format)
    {
        // Two 64x64 pages (or frames): white, then black. The output is one page, the white one.
        using Image white = Image.Black(64, 64, bands: 3) + 255;
        using Image pages = white.Join(Image.Black(64, 64, bands: 3), Enums.Direction.Vertical)
            .Cast(Enums.BandFormat.Uchar)
            .Copy(interpretation: Enums.Interpretation.Srgb)
            .Mutate(m =>
            {
                m.Set(GValue.GIntType, "page-height", 64);
                m.Set(GValue.ArrayIntType, "delay", new[] { 100, 100 });
            });
        byte[] source = format switch
        {
            ImageFormat.Tiff => pages.TiffsaveBuffer(),
            ImageFormat.Gif => pages.GifsaveBuffer(),
            _ => pages.WebpsaveBuffer(lossless: true),
        };
        using (Image all = Image.NewFromBuffer(source, "[n=-1]"))
        {
            Assert.Equal((64, 128), (all.Width, all.Height));
        }

        EncodedImage encoded = Convert(source, ImageFormat.Png, quality: 100);

        using Image decoded = Rgb(DecodeAs(encoded, ImageFormat.Png));
        Assert.Equal((64, 64), (decoded.Width, decoded.Height));
        Assert.True(decoded.Min() > 250, "the first page is white");
    }

    [Fact]
    public void CheckSvg_ToPng_IsRasterisedWithTransparentBackground()
    {
        // check.svg: viewBox 100x100, a green (#008000) tick on nothing.
        byte[] source = FixtureBytes("check.svg");

        EncodedImage encoded = Convert(source, ImageFormat.Png, quality: 100);

        using Image decoded = DecodeAs(encoded, ImageFormat.Png);
        Assert.Equal((100, 100), (decoded.Width, decoded.Height));
        Assert.True(decoded.HasAlpha());
        Assert.Equal(0, decoded.Getpoint(2, 2)[3]); // corner: background, transparent
        double[] stroke = decoded.Getpoint(35, 76); // on the tick
        Assert.Equal(255, stroke[3]);
        Assert.InRange(stroke[0], 0, 10);
        Assert.InRange(stroke[1], 118, 138);
        Assert.InRange(stroke[2], 0, 10);
    }

    [Fact]
    public void CircleSvg_ToJpg_IsRasterisedAndFlattenedOntoWhite()
    {
        // circle.svg: viewBox 8x8, a deeppink (255, 20, 147) circle of radius 3.75 in the middle.
        byte[] source = FixtureBytes("circle.svg");

        EncodedImage encoded = Convert(source, ImageFormat.Jpeg, quality: 100);

        using Image decoded = DecodeAs(encoded, ImageFormat.Jpeg);
        Assert.Equal((8, 8), (decoded.Width, decoded.Height));
        double[] centre = decoded.Getpoint(4, 4);
        Assert.InRange(centre[0], 235, 255);
        Assert.InRange(centre[1], 0, 50);
        Assert.InRange(centre[2], 120, 170);
        Assert.All(decoded.Getpoint(0, 0), v => Assert.True(v > 200, "corner outside the circle is white"));
    }

    [Fact]
    public void SvgWithSizeInPixels_Width_IsRenderedAtThatSizeNotScaledBitmap()
    {
        // A vector image asked for less than its size is rendered at that size (thumbnail renders SVG by scale):
        // the edge of a black square at 3/4 of the width stays sharp, with no grey blur from a bitmap shrink.
        const string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"800\" height=\"400\">" +
                           "<rect width=\"800\" height=\"400\" fill=\"white\"/><rect width=\"600\" height=\"400\" fill=\"black\"/></svg>";

        EncodedImage encoded = Convert(System.Text.Encoding.UTF8.GetBytes(svg), ImageFormat.Png, width: 80, quality: 100);

        using Image decoded = Rgb(DecodeAs(encoded, ImageFormat.Png));
        Assert.Equal((80, 40), (decoded.Width, decoded.Height));
        Assert.True(decoded.Getpoint(58, 20)[0] < 10, "left of the edge is black");
        Assert.True(decoded.Getpoint(61, 20)[0] > 245, "right of the edge is white");
    }
}
