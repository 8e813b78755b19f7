using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>Width/Height: fit inside the box, keep the aspect ratio, never enlarge.</summary>
public class ConverterResizeTests
{
    // 600x450 (4:3), upright, no ICC profile.
    private const string Photo = "Landscape_1.jpg";

    // Lossless PNG output, so that the only difference from libvips' own thumbnail is rounding: well under 1 level.
    private const double LosslessTolerance = 1.0;

    [Theory]
    [InlineData(300, null, 300, 225)] // width only: height follows the aspect ratio
    [InlineData(null, 150, 200, 150)] // height only: width follows
    [InlineData(300, 100, 133, 100)] // both: fit inside, height is the binding side (600x450 * 100/450 = 133.3x100)
    [InlineData(100, 300, 100, 75)] // both: fit inside, width is the binding side
    [InlineData(240, 180, 240, 180)] // both, exactly the aspect ratio
    public void Resize_WidthHeightOrBoth_FitsInsideKeepingAspect(int? width, int? height, int expectedWidth, int expectedHeight)
    {
        byte[] source = FixtureBytes(Photo);

        EncodedImage encoded = Convert(source, ImageFormat.Png, width, height, quality: 100);

        using Image decoded = DecodeAs(encoded, ImageFormat.Png);
        Assert.Equal(expectedWidth, decoded.Width);
        Assert.Equal(expectedHeight, decoded.Height);
        using Image reference = ReferenceInBox(source, width, height);
        Assert.Equal((expectedWidth, expectedHeight), (reference.Width, reference.Height));
        double difference = MeanAbsDiff(Rgb(decoded), reference);
        Assert.True(difference < LosslessTolerance, $"mean absolute difference {difference:F2}");
    }

    [Theory]
    [InlineData(1000, null)]
    [InlineData(null, 2000)]
    [InlineData(1200, 900)]
    [InlineData(601, 451)]
    public void LargerThanSource_AnyBox_KeepsSourceSize(int? width, int? height)
    {
        byte[] source = FixtureBytes(Photo);

        EncodedImage encoded = Convert(source, ImageFormat.Png, width, height, quality: 100);

        using Image decoded = DecodeAs(encoded, ImageFormat.Png);
        Assert.Equal((600, 450), (decoded.Width, decoded.Height));
        using Image original = Image.NewFromBuffer(source);
        Assert.True(MeanAbsDiff(Rgb(decoded), Rgb(original)) < LosslessTolerance, "not enlarged, so the pixels are the source's");
    }

    [Fact]
    public void OneSideLargerOneSmaller_Box_ShrinksToTheSmallerSide()
    {
        EncodedImage encoded = Convert(FixtureBytes(Photo), ImageFormat.Jpeg, width: 5000, height: 90);

        Assert.Equal((120, 90), (encoded.Width, encoded.Height));
    }

    [Fact]
    public void NoSize_Photo_KeepsOriginalSize()
    {
        byte[] source = FixtureBytes(Photo);

        EncodedImage encoded = Convert(source, ImageFormat.Png, quality: 100);

        using Image decoded = DecodeAs(encoded, ImageFormat.Png);
        Assert.Equal((600, 450), (decoded.Width, decoded.Height));
        using Image original = Image.NewFromBuffer(source);
        Assert.True(MeanAbsDiff(Rgb(decoded), Rgb(original)) < LosslessTolerance);
    }

    [Fact]
    public void LargePhoto_Width_UsesShrinkOnLoadAndStillMatchesReference()
    {
        // 2725x2225 -> 100 wide: the JPEG is shrunk while decoding; the result must still be the whole picture.
        byte[] source = FixtureBytes("2569067123_aca715a2ee_o.jpg");

        EncodedImage encoded = Convert(source, ImageFormat.Png, width: 100, quality: 100);

        Assert.Equal((100, 82), (encoded.Width, encoded.Height));
        using Image decoded = DecodeAs(encoded, ImageFormat.Png);
        Assert.True(MeanAbsDiff(Rgb(decoded), ReferenceInBox(source, 100, null)) < LosslessTolerance);
    }

    [Fact]
    public void Synthetic_Resize_AveragesRatherThanSamples()
    {
        // A 1-pixel black/white checkerboard shrunk 4x must become mid grey, not black or white (a nearest-neighbour
        // resize would keep 0 or 255).
        using Image xy = Image.Xyz(64, 64);
        using Image checker = ((xy[0] + xy[1]) % 2 * 255).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Bw);
        byte[] source = checker.PngsaveBuffer();

        EncodedImage encoded = Convert(source, ImageFormat.Png, width: 16, quality: 100);

        using Image decoded = DecodeAs(encoded, ImageFormat.Png);
        Assert.Equal((16, 16), (decoded.Width, decoded.Height));
        Assert.InRange(decoded.Avg(), 120, 135);
        Assert.True(decoded.Min() > 60 && decoded.Max() < 195, $"min {decoded.Min()}, max {decoded.Max()}");
    }
}
