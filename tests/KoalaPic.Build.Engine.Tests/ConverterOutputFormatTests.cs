using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>Every output format, from a real photo: right container, right size, pixels close to a libvips reference.</summary>
public class ConverterOutputFormatTests
{
    // sharp's standard test photo: 2725x2225, sRGB, no ICC profile, no EXIF orientation, lots of detail.
    private const string Photo = "2569067123_aca715a2ee_o.jpg";
    private const int Width = 320;

    /// <summary>
    /// Mean absolute difference (per 8-bit sample, 0..255) allowed between the decoded output and libvips' own
    /// thumbnail of the source in the same box. The reference is made by the same resampler, so the difference is the
    /// encoder's loss only. Measured at quality 85 on this photo at 320x261: jpg 2.9, tiff (jpeg) 2.9, webp 2.6,
    /// avif 1.9, png (libimagequant palette) 1.9, gif (palette) 1.9. The limits leave about 2x headroom for encoder
    /// version changes, while a wrong picture is far above them: the same output compared with the mirrored reference
    /// is ~46 (asserted over 20 below), and a CMYK or profile mix-up is 10..70 (see ConverterColourTests).
    /// </summary>
    public static TheoryData<ImageFormat, double> Formats => new()
    {
        { ImageFormat.Jpeg, 6 },
        { ImageFormat.Tiff, 6 },
        { ImageFormat.Webp, 6 },
        { ImageFormat.Avif, 5 },
        { ImageFormat.Png, 5 },
        { ImageFormat.Gif, 5 },
    };

    private const double WrongImageMinimum = 20;

    [Theory]
    [MemberData(nameof(Formats))]
    public void Photo_EachFormat_IsThatFormatAtTheRequestedSizeAndLooksLikeTheSource(ImageFormat format, double tolerance)
    {
        byte[] source = FixtureBytes(Photo);

        EncodedImage encoded = Convert(source, format, width: Width);

        using Image decoded = DecodeAs(encoded, format);
        Assert.Equal(Width, decoded.Width);
        Assert.Equal(Round(2225 * Width / 2725.0), decoded.Height);
        Assert.Equal(Enums.BandFormat.Uchar, decoded.Format);
        Assert.False(decoded.HasAlpha());

        Image actual = Rgb(decoded);
        Image reference = ReferenceInBox(source, Width, null);
        double difference = MeanAbsDiff(actual, reference);
        Assert.True(difference < tolerance, $"{format}: mean absolute difference {difference:F2} >= {tolerance}");

        // The metric can tell a wrong picture: the mirrored reference is far off.
        double mirrored = MeanAbsDiff(actual, reference.FlipHor());
        Assert.True(mirrored > WrongImageMinimum, $"{format}: mirrored difference {mirrored:F2} should exceed {WrongImageMinimum}");
    }

    [Theory]
    [InlineData(ImageFormat.Jpeg)]
    [InlineData(ImageFormat.Webp)]
    [InlineData(ImageFormat.Avif)]
    public void LowerQuality_LossyFormat_GivesSmallerFile(ImageFormat format)
    {
        byte[] source = FixtureBytes(Photo);

        byte[] high = Convert(source, format, width: 200, quality: 90).Bytes;
        byte[] low = Convert(source, format, width: 200, quality: 30).Bytes;

        Assert.True(low.Length < high.Length, $"{format}: q30 is {low.Length} bytes, q90 is {high.Length} bytes");
    }

    [Fact]
    public void Png_Quality100_IsLosslessTruecolour()
    {
        // A synthetic gradient with 256x64 distinct colours, more than a palette can hold.
        using Image xy = Image.Xyz(256, 64);
        using Image gradient = xy[0].Bandjoin(xy[1] * 4, xy[0] * 0 + 128)
            .Cast(Enums.BandFormat.Uchar)
            .Copy(interpretation: Enums.Interpretation.Srgb);
        byte[] source = gradient.PngsaveBuffer();

        EncodedImage encoded = Convert(source, ImageFormat.Png, quality: 100);

        using Image decoded = DecodeAs(encoded, ImageFormat.Png);
        Assert.Equal(3, decoded.Bands);
        Assert.Equal(0, MeanAbsDiff(decoded, gradient));
        Assert.False(IsPalette(decoded), "quality 100 must not quantise to a palette");
    }

    [Fact]
    public void Png_DefaultQuality_IsPaletteQuantised()
    {
        byte[] source = FixtureBytes(Photo);

        EncodedImage encoded = Convert(source, ImageFormat.Png, width: 100);

        using Image decoded = DecodeAs(encoded, ImageFormat.Png);
        Assert.True(IsPalette(decoded), "quality below 100 is documented to quantise to a palette");
    }

    private static bool IsPalette(Image image) =>
        image.Contains("palette") && image.Get("palette") switch
        {
            bool b => b,
            int i => i != 0,
            _ => true,
        };

    private static int Round(double value) => (int)Math.Round(value, MidpointRounding.AwayFromZero);
}
