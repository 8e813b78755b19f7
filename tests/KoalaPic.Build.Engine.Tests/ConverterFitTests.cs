using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>Fit, Position, Enlarge, Background, Lossless, KeepMetadata and Quality, checked on decoded pixels.</summary>
public class ConverterFitTests
{
    private const string BigPhoto = "2569067123_aca715a2ee_o.jpg"; // 2725x2225

    /// <summary>200x100: the left half red, the right half blue, as a lossless PNG.</summary>
    private static byte[] RedBlue()
    {
        using Image red = Solid(100, 100, 255, 0, 0);
        using Image blue = Solid(100, 100, 0, 0, 255);
        using Image both = red.Join(blue, Enums.Direction.Horizontal);
        return both.PngsaveBuffer();
    }

    private static ConversionOptions Png(int? width, int? height, FitMode fit) =>
        new(ImageFormat.Png, 100, width, height) { Fit = fit };

    [Theory]
    [InlineData(FitMode.Inside, 50, 25)]
    [InlineData(FitMode.Outside, 100, 50)]
    [InlineData(FitMode.Cover, 50, 50)]
    [InlineData(FitMode.Contain, 50, 50)]
    [InlineData(FitMode.Fill, 50, 50)]
    public void EachFit_200x100Into50x50_HasSharpsSize(FitMode fit, int width, int height)
    {
        EncodedImage encoded = Convert(RedBlue(), Png(50, 50, fit));

        using Image decoded = DecodeAs(encoded, ImageFormat.Png);
        Assert.Equal((width, height), (decoded.Width, decoded.Height));
    }

    [Fact]
    public void Cover_CentrePosition_CropsTheMiddle()
    {
        // The middle 100x100 of 200x100 is half red, half blue; scaled to 50x50: red left, blue right.
        using Image decoded = DecodeAs(Convert(RedBlue(), Png(50, 50, FitMode.Cover)), ImageFormat.Png);

        AssertColourNear(new double[] { 255, 0, 0 }, decoded.Getpoint(5, 25), 2);
        AssertColourNear(new double[] { 0, 0, 255 }, decoded.Getpoint(45, 25), 2);
    }

    [Fact]
    public void Contain_DefaultBackground_PadsWithWhiteBars()
    {
        using Image decoded = DecodeAs(Convert(RedBlue(), Png(50, 50, FitMode.Contain)), ImageFormat.Png);

        AssertColourNear(new double[] { 255, 255, 255 }, decoded.Getpoint(25, 2), 1); // bar above
        AssertColourNear(new double[] { 255, 255, 255 }, decoded.Getpoint(25, 47), 1); // bar below
        AssertColourNear(new double[] { 255, 0, 0 }, decoded.Getpoint(5, 25), 2);
        AssertColourNear(new double[] { 0, 0, 255 }, decoded.Getpoint(45, 25), 2);
    }

    [Fact]
    public void Contain_BlackBackgroundAsJpg_PadsWithBlack()
    {
        var options = new ConversionOptions(ImageFormat.Jpeg, 95, 50, 50) { Fit = FitMode.Contain, Background = new Colour(0, 0, 0) };

        using Image decoded = DecodeAs(Convert(RedBlue(), options), ImageFormat.Jpeg);

        Assert.Equal((50, 50), (decoded.Width, decoded.Height));
        AssertColourNear(new double[] { 0, 0, 0 }, decoded.Getpoint(25, 2), 4);
    }

    [Fact]
    public void Contain_TransparentBackgroundAsPng_HasTransparentBars()
    {
        var options = Png(50, 50, FitMode.Contain) with { Background = new Colour(255, 255, 255, 0) };

        using Image decoded = DecodeAs(Convert(RedBlue(), options), ImageFormat.Png);

        Assert.Equal(4, decoded.Bands);
        Assert.Equal(0, decoded.Getpoint(25, 2)[3]);
        Assert.Equal(255, decoded.Getpoint(5, 25)[3]);
    }

    [Fact]
    public void Fill_IgnoresAspectRatio()
    {
        using Image decoded = DecodeAs(Convert(RedBlue(), Png(40, 80, FitMode.Fill)), ImageFormat.Png);

        Assert.Equal((40, 80), (decoded.Width, decoded.Height));
        AssertColourNear(new double[] { 255, 0, 0 }, decoded.Getpoint(5, 70), 2);
        AssertColourNear(new double[] { 0, 0, 255 }, decoded.Getpoint(35, 10), 2);
    }

    [Fact]
    public void PortraitCoverOfLandscapePhoto_IsExactSizeAndMatchesLibvipsCentreCrop()
    {
        byte[] source = FixtureBytes(BigPhoto);

        using Image decoded = DecodeAs(Convert(source, new ConversionOptions(ImageFormat.Png, 100, 540, 960) { Fit = FitMode.Cover }), ImageFormat.Png);

        using Image reference = Image.ThumbnailBuffer(source, 540, height: 960, crop: Enums.Interesting.Centre);
        Assert.Equal((540, 960), (decoded.Width, decoded.Height));
        Assert.True(MeanAbsDiff(Rgb(decoded), Rgb(reference)) < 3, "same crop as libvips' own centre crop");
    }

    [Theory]
    [InlineData(CropPosition.Entropy)]
    [InlineData(CropPosition.Attention)]
    public void Cover_SmartPosition_KeepsTheBusyPart(CropPosition position)
    {
        // 300x100: flat grey except a noisy, saturated square on the right; a centre crop would be flat grey.
        using Image grey = Solid(200, 100, 128, 128, 128);
        using Image noise = Image.Gaussnoise(100, 100, mean: 128, sigma: 80).Bandjoin(Image.Gaussnoise(100, 100, mean: 60, sigma: 60), Image.Gaussnoise(100, 100, mean: 200, sigma: 50))
            .Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        using Image source = grey.Join(noise, Enums.Direction.Horizontal);
        var options = Png(100, 100, FitMode.Cover) with { Position = position };

        using Image centre = DecodeAs(Convert(source.PngsaveBuffer(), Png(100, 100, FitMode.Cover)), ImageFormat.Png);
        using Image smart = DecodeAs(Convert(source.PngsaveBuffer(), options), ImageFormat.Png);

        Assert.True(centre.Deviate() < 1, "the centre crop is the flat part");
        Assert.True(smart.Deviate() > 30, $"{position} keeps the noisy part");
    }

    [Fact]
    public void SmallImage_WithoutEnlarge_KeepsItsSize()
    {
        using Image decoded = DecodeAs(Convert(RedBlue(), Png(800, null, FitMode.Inside)), ImageFormat.Png);

        Assert.Equal((200, 100), (decoded.Width, decoded.Height));
    }

    [Fact]
    public void SmallImage_WithEnlarge_IsScaledUp()
    {
        using Image decoded = DecodeAs(Convert(RedBlue(), Png(800, null, FitMode.Inside) with { Enlarge = true }), ImageFormat.Png);

        Assert.Equal((800, 400), (decoded.Width, decoded.Height));
    }

    [Fact]
    public void Svg_LargerThanItsSize_IsRenderedAtThatSizeNotScaledUp()
    {
        // 10x10 with a black left half. Rendered at 1000 wide, the edge stays one pixel sharp; a 10 px bitmap scaled
        // up would blur it over tens of pixels.
        const string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">" +
                           "<rect width=\"10\" height=\"10\" fill=\"white\"/><rect width=\"5\" height=\"10\" fill=\"black\"/></svg>";

        using Image decoded = Rgb(DecodeAs(Convert(System.Text.Encoding.UTF8.GetBytes(svg), ImageFormat.Png, width: 1000, quality: 100), ImageFormat.Png));

        Assert.Equal((1000, 1000), (decoded.Width, decoded.Height));
        Assert.True(decoded.Getpoint(497, 500)[0] < 10, "left of the edge is black");
        Assert.True(decoded.Getpoint(503, 500)[0] > 245, "right of the edge is white");
    }

    [Fact]
    public void TransparentPngToJpg_Background_FlattensOntoIt()
    {
        byte[] source = FixtureBytes("full-transparent.png");
        var options = new ConversionOptions(ImageFormat.Jpeg, 95, null, null) { Background = new Colour(0, 128, 255) };

        using Image decoded = DecodeAs(Convert(source, options), ImageFormat.Jpeg);

        AssertColourNear(new double[] { 0, 128, 255 }, decoded.Getpoint(0, 0), 4);
    }

    [Theory]
    [InlineData(ImageFormat.Jpeg)]
    [InlineData(ImageFormat.Webp)]
    [InlineData(ImageFormat.Avif)]
    public void Quality1_IsSmallerThanQuality100(ImageFormat format)
    {
        byte[] source = FixtureBytes("Landscape_1.jpg");

        int low = Convert(source, format, width: 300, quality: 1).Bytes.Length;
        int high = Convert(source, format, width: 300, quality: 100).Bytes.Length;

        Assert.True(low * 2 < high, $"{format}: quality 1 gives {low} bytes, quality 100 gives {high}");
    }

    [Theory]
    [InlineData(ImageFormat.Webp)]
    [InlineData(ImageFormat.Avif)]
    [InlineData(ImageFormat.Png)]
    public void Lossless_KeepsEveryPixel(ImageFormat format)
    {
        using Image photo = Image.ThumbnailBuffer(FixtureBytes("Landscape_1.jpg"), 120).CopyMemory();
        var options = new ConversionOptions(format, 50, null, null) { Lossless = true };

        using Image decoded = Rgb(DecodeAs(Convert(photo.PngsaveBuffer(), options), format));

        Assert.Equal(0, MeanAbsDiff(decoded, Rgb(photo)));
    }

    [Fact]
    public void KeepMetadata_KeepsExifButNotTheOrientationItApplied()
    {
        byte[] source = FixtureBytes("Landscape_2.jpg"); // EXIF orientation 2 (mirrored)
        var keep = new ConversionOptions(ImageFormat.Jpeg, 85, 300, null) { KeepMetadata = true };

        using Image kept = DecodeAs(Convert(source, keep), ImageFormat.Jpeg);
        using Image stripped = DecodeAs(Convert(source, ImageFormat.Jpeg, width: 300), ImageFormat.Jpeg);

        Assert.True(kept.Contains("exif-data"), "EXIF kept");
        Assert.False(stripped.Contains("exif-data"), "EXIF stripped by default");
        Assert.True(!kept.Contains("orientation") || (int)kept.Get("orientation") == 1, "orientation was applied, so it is no longer set");
    }
}
