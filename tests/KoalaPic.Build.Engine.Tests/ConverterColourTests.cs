using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>Colour spaces, bit depths, ICC profiles and alpha.</summary>
public class ConverterColourTests
{
    [Fact]
    public void CmykJpeg_ToJpg_IsThreeBandSrgbWithTheRightColours()
    {
        byte[] source = FixtureBytes("Channel_digital_image_CMYK_color.jpg");
        using Image input = Image.NewFromBuffer(source);
        Assert.Equal(Enums.Interpretation.Cmyk, input.Interpretation);
        Assert.Equal(4, input.Bands);

        EncodedImage encoded = Convert(source, ImageFormat.Jpeg, width: 250);

        using Image decoded = DecodeAs(encoded, ImageFormat.Jpeg);
        Assert.Equal(3, decoded.Bands);
        Assert.Equal(Enums.Interpretation.Srgb, decoded.Interpretation);
        Assert.Equal((250, 167), (decoded.Width, decoded.Height));

        // Reference: the source converted to sRGB through its embedded CMYK profile, then resized. Measured: 1.2 with
        // lossless output, ~5.3 at jpg q85 (a detailed picture at 250 px). Limit 8; reading the CMYK numbers as if
        // they were RGB is over 50 away (checked, so the limit can tell).
        using Image reference = input.IccTransform("srgb", embedded: true).ThumbnailImage(250, height: 167).CopyMemory();
        double difference = MeanAbsDiff(decoded, reference);
        Assert.True(difference < 8, $"mean absolute difference {difference:F2}");
        using Image naive = input.ExtractBand(0, n: 3).Copy(interpretation: Enums.Interpretation.Srgb).ThumbnailImage(250, height: 167);
        Assert.True(MeanAbsDiff(decoded, naive) > 50, "CMYK numbers read as RGB must be far from the output");
    }

    [Fact]
    public void CmykJpeg_LosslessPng_MatchesIccConversion()
    {
        byte[] source = FixtureBytes("Channel_digital_image_CMYK_color.jpg");
        using Image input = Image.NewFromBuffer(source);
        using Image reference = input.IccTransform("srgb", embedded: true).ThumbnailImage(250, height: 167).CopyMemory();

        EncodedImage encoded = Convert(source, ImageFormat.Png, width: 250, quality: 100);

        using Image decoded = DecodeAs(encoded, ImageFormat.Png);
        Assert.Equal(3, decoded.Bands);
        double difference = MeanAbsDiff(decoded, reference);
        Assert.True(difference < 2, $"mean absolute difference {difference:F2}");
    }

    [Theory]
    [InlineData(ImageFormat.Png, 100)]
    [InlineData(ImageFormat.Png, 85)]
    [InlineData(ImageFormat.Webp, 85)]
    [InlineData(ImageFormat.Tiff, 100)]
    public void SixteenBitRgbPng_AnyFormat_IsEightBitWithTheSameColours(ImageFormat format, int quality)
    {
        byte[] source = FixtureBytes("Flag_of_the_Netherlands-16bit.png");
        using Image input = Image.NewFromBuffer(source);
        Assert.Equal(Enums.BandFormat.Ushort, input.Format);

        EncodedImage encoded = Convert(source, format, quality: quality);

        using Image decoded = DecodeAs(encoded, format);
        Assert.Equal(Enums.BandFormat.Uchar, decoded.Format);
        if (quality == 100)
        {
            Assert.Equal(8, System.Convert.ToInt32(decoded.Get("bits-per-sample")));
        }

        // Three flat stripes: red, white, blue. Checked at the centre of each against the 16-bit source / 257.
        using Image expected = input.Colourspace(Enums.Interpretation.Srgb);
        Image actual = Rgb(decoded);
        foreach (int y in new[] { 100, 300, 500 })
        {
            double[] want = expected.Getpoint(450, y);
            double[] got = actual.Getpoint(450, y);
            AssertColourNear(want, got, 3);
        }

        Assert.True(MeanAbsDiff(actual, Rgb(expected)) < 2);
    }

    [Fact]
    public void SixteenBitGreyAlphaPng_LosslessPng_StaysEightBitGreyWithAlpha()
    {
        // The fixture is a soft black shadow: grey 0 everywhere, alpha 0..4116 of 65535 (0..16 of 255).
        byte[] source = FixtureBytes("16-bit-grey-alpha.png");
        using Image input = Image.NewFromBuffer(source);
        Assert.Equal((2, Enums.Interpretation.Grey16), (input.Bands, input.Interpretation));

        EncodedImage encoded = Convert(source, ImageFormat.Png, quality: 100);

        using Image decoded = DecodeAs(encoded, ImageFormat.Png);
        AssertEightBitGreyAlphaOf(input, decoded);
        Assert.InRange(decoded[1].Max(), 15, 17);
    }

    [Fact]
    public void SixteenBitGreyAlphaGradient_LosslessPng_StaysEightBitGreyWithAlpha()
    {
        // Synthetic, full range: grey rises left to right, alpha top to bottom, both 16-bit.
        using Image xy = Image.Xyz(256, 256);
        using Image grey16 = (xy[0] * 257).Bandjoin(xy[1] * 257).Cast(Enums.BandFormat.Ushort).Copy(interpretation: Enums.Interpretation.Grey16);
        byte[] source = grey16.PngsaveBuffer(bitdepth: 16);
        using Image input = Image.NewFromBuffer(source);
        Assert.Equal((Enums.BandFormat.Ushort, 2), (input.Format, input.Bands));

        EncodedImage encoded = Convert(source, ImageFormat.Png, quality: 100);

        using Image decoded = DecodeAs(encoded, ImageFormat.Png);
        AssertEightBitGreyAlphaOf(input, decoded);
        Assert.Equal(new double[] { 200, 100 }, decoded.Getpoint(200, 100));
    }

    [Fact]
    public void SixteenBitGreyAlphaGradient_Webp_KeepsGreyLevelsAndAlpha()
    {
        // WebP stores grey as R=G=B: all three must carry the grey, and alpha must survive.
        using Image xy = Image.Xyz(128, 128);
        using Image grey16 = (xy[0] * 2 * 257).Bandjoin((xy[1] * 2 + 1) * 257).Cast(Enums.BandFormat.Ushort).Copy(interpretation: Enums.Interpretation.Grey16);
        byte[] source = grey16.PngsaveBuffer(bitdepth: 16);
        using Image expected = (grey16.Cast(Enums.BandFormat.Double) / 257).Cast(Enums.BandFormat.Uchar);

        EncodedImage encoded = Convert(source, ImageFormat.Webp, quality: 90);

        using Image decoded = DecodeAs(encoded, ImageFormat.Webp);
        Assert.Equal(4, decoded.Bands);
        Assert.True(MeanAbsDiff(decoded[3], expected[1]) < 2, "alpha");

        // Colour only matters where the pixel is visible: compare grey on the more opaque half (alpha >= 128).
        using Image visibleOut = decoded.Crop(0, 64, 128, 64);
        using Image visibleIn = expected.Crop(0, 64, 128, 64);
        foreach (int band in new[] { 0, 1, 2 })
        {
            double difference = MeanAbsDiff(visibleOut[band], visibleIn[0]);
            Assert.True(difference < 4, $"band {band} differs from the grey by {difference:F2}");
        }
    }

    private static void AssertEightBitGreyAlphaOf(Image input16, Image decoded)
    {
        Assert.Equal(2, decoded.Bands);
        Assert.Equal(Enums.Interpretation.Bw, decoded.Interpretation);
        Assert.Equal(Enums.BandFormat.Uchar, decoded.Format);
        Assert.Equal((input16.Width, input16.Height), (decoded.Width, decoded.Height));

        // Grey and alpha are each the 16-bit value scaled to 8 bits: within 1 level (rounding) everywhere.
        using Image expected = input16.Cast(Enums.BandFormat.Double) / 257;
        using Image difference = (decoded.Cast(Enums.BandFormat.Double) - expected).Abs();
        Assert.True(difference[0].Max() <= 1, $"grey off by up to {difference[0].Max()}");
        Assert.True(difference[1].Max() <= 1, $"alpha off by up to {difference[1].Max()}");
    }

    public static TheoryData<ImageFormat, double> AlphaFormats => new()
    {
        // Allowed mean alpha difference (0..255). Measured on 5_webp_a.webp: png (palette) 1.3, tiff 0, webp 0
        // (lossless alpha), avif 0.5. Dropping the alpha channel or flattening it fails outright.
        { ImageFormat.Png, 3 },
        { ImageFormat.Tiff, 0.5 },
        { ImageFormat.Webp, 3 },
        { ImageFormat.Avif, 4 },
    };

    [Theory]
    [MemberData(nameof(AlphaFormats))]
    public void TransparentWebp_AlphaFormat_KeepsAlpha(ImageFormat format, double tolerance)
    {
        // 5_webp_a.webp: 300x300 RGBA with fully transparent areas and alpha up to 174.
        byte[] source = FixtureBytes("5_webp_a.webp");
        using Image input = Image.NewFromBuffer(source);
        Assert.Equal(4, input.Bands);
        (int tx, int ty) = TransparentPixel(input);

        EncodedImage encoded = Convert(source, format);

        using Image decoded = DecodeAs(encoded, format);
        Assert.True(decoded.HasAlpha(), $"{format} output lost its alpha channel");
        Assert.Equal(4, decoded.Bands);
        double difference = MeanAbsDiff(decoded[3], input[3]);
        Assert.True(difference < tolerance, $"alpha differs by {difference:F2}");
        Assert.True(decoded.Getpoint(tx, ty)[3] < 10, "a fully transparent source pixel stays transparent");
    }

    [Theory]
    [MemberData(nameof(AlphaFormats))]
    public void SemiTransparentPng_AlphaFormat_KeepsColourAndAlpha(ImageFormat format, double tolerance)
    {
        // with-alpha.png: 256x192, one colour at alpha 168 of 255 everywhere (no fully transparent pixel).
        byte[] source = FixtureBytes("with-alpha.png");
        using Image input = Image.NewFromBuffer(source);
        Assert.Equal((168.0, 168.0), (input[3].Min(), input[3].Max()));

        EncodedImage encoded = Convert(source, format);

        using Image decoded = DecodeAs(encoded, format);
        Assert.Equal(4, decoded.Bands);
        Assert.True(MeanAbsDiff(decoded[3], input[3]) < tolerance, "alpha");
        Assert.True(MeanAbsDiff(decoded.ExtractBand(0, n: 3), input.ExtractBand(0, n: 3)) < 3, "colour");
    }

    [Fact]
    public void TransparentWebp_ToJpg_TransparentPixelsBecomeWhite()
    {
        byte[] source = FixtureBytes("5_webp_a.webp");
        using Image input = Image.NewFromBuffer(source);
        (int tx, int ty) = TransparentPixel(input);

        EncodedImage encoded = Convert(source, ImageFormat.Jpeg);

        using Image decoded = DecodeAs(encoded, ImageFormat.Jpeg);
        Assert.Equal(3, decoded.Bands);
        double[] pixel = decoded.Getpoint(tx, ty);
        Assert.All(pixel, v => Assert.True(v >= 245, $"transparent pixel became {string.Join(",", pixel)}, not white"));

        // Everywhere: the source composited over white (over black, the naive result, is far away).
        using Image overWhite = input.Flatten(new double[] { 255, 255, 255 });
        using Image overBlack = input.Flatten(new double[] { 0, 0, 0 });
        double difference = MeanAbsDiff(decoded, overWhite);
        Assert.True(difference < 6, $"differs from the source over white by {difference:F2}"); // measured 3.0 (jpg q85)
        Assert.True(MeanAbsDiff(decoded, overBlack) > 4 * difference + 20, "over white and over black must be told apart");
    }

    [Fact]
    public void SemiTransparentPng_ToJpg_IsCompositedOverWhite()
    {
        // Colour c at alpha 168/255 over white is c*168/255 + 255*87/255: lighter than c, not c, and not darker.
        byte[] source = FixtureBytes("with-alpha.png");
        using Image input = Image.NewFromBuffer(source);
        double[] colour = input.Getpoint(10, 10);
        double[] expected = colour.Take(3).Select(c => (c * 168 / 255) + (255.0 * 87 / 255)).ToArray();

        EncodedImage encoded = Convert(source, ImageFormat.Jpeg);

        using Image decoded = DecodeAs(encoded, ImageFormat.Jpeg);
        Assert.Equal(3, decoded.Bands);
        double[] pixel = decoded.Getpoint(128, 96);
        AssertColourNear(expected, pixel, 3);
    }

    [Fact]
    public void TransparentWebp_ToGif_KeepsTransparency()
    {
        byte[] source = FixtureBytes("5_webp_a.webp");
        using Image input = Image.NewFromBuffer(source);
        (int tx, int ty) = TransparentPixel(input);

        EncodedImage encoded = Convert(source, ImageFormat.Gif);

        using Image decoded = DecodeAs(encoded, ImageFormat.Gif);
        Assert.True(decoded.HasAlpha());
        Assert.Equal(0, decoded.Getpoint(tx, ty)[3]);
    }

    [Fact]
    public void ProPhotoProfilePng_AnyFormat_ColoursAreConvertedToSrgb()
    {
        // prophoto.png is one pixel of (131, 141, 192) in ProPhoto RGB. Its profile is stripped from the output,
        // so the pixel must be converted: shown as sRGB, the raw numbers would be a visibly different colour.
        byte[] source = FixtureBytes("prophoto.png");
        using Image input = Image.NewFromBuffer(source);
        Assert.Equal(new double[] { 131, 141, 192 }, input.Getpoint(0, 0));
        double[] expected = input.IccTransform("srgb", embedded: true, intent: Enums.Intent.Relative).Getpoint(0, 0);
        Assert.True(Math.Abs(expected[1] - 141) > 10, "the reference conversion must differ from the raw values");

        EncodedImage encoded = Convert(source, ImageFormat.Png, quality: 100);

        using Image decoded = DecodeAs(encoded, ImageFormat.Png);
        Assert.DoesNotContain("icc-profile-data", decoded.GetFields());
        double[] pixel = decoded.Getpoint(0, 0);
        AssertColourNear(expected, pixel, 2);
    }

    [Fact]
    public void P3ProfilePng_ToPng_IsConvertedToSrgb()
    {
        // p3.png: Display P3 (as phone photos), mostly (254, 0, 0) P3 red, out of the sRGB gamut: clips to 255, 0, 0.
        byte[] source = FixtureBytes("p3.png");
        using Image input = Image.NewFromBuffer(source);
        using Image expected = Rgb(input.IccTransform("srgb", embedded: true, intent: Enums.Intent.Relative));

        EncodedImage encoded = Convert(source, ImageFormat.Png, quality: 100);

        using Image decoded = DecodeAs(encoded, ImageFormat.Png);
        Assert.DoesNotContain("icc-profile-data", decoded.GetFields());
        Assert.True(MeanAbsDiff(Rgb(decoded), expected) < 1.5);
    }

    [Fact]
    public void GreyJpegWithGreyProfile_ToJpg_StaysOneBandGrey()
    {
        byte[] source = FixtureBytes("concert.jpg");
        using Image input = Image.NewFromBuffer(source);
        Assert.Equal((1, true), (input.Bands, input.Contains("icc-profile-data")));

        EncodedImage encoded = Convert(source, ImageFormat.Jpeg, width: 200);

        using Image decoded = DecodeAs(encoded, ImageFormat.Jpeg);
        Assert.Equal(1, decoded.Bands);
        Assert.Equal(Enums.Interpretation.Bw, decoded.Interpretation);
        Assert.True(MeanAbsDiff(decoded, Image.ThumbnailBuffer(source, 200, height: 10_000).CopyMemory()) < 3);
    }

    [Fact]
    public void BrokenEmbeddedProfile_Convert_IsIgnored()
    {
        // A JPEG with an APP2 ICC_PROFILE segment whose content is not a profile at all. libvips will not write
        // one, so the segment is spliced in after SOI by hand.
        using Image photo = Image.ThumbnailBuffer(FixtureBytes("Landscape_1.jpg"), 160).CopyMemory();
        byte[] clean = photo.JpegsaveBuffer(q: 95);
        byte[] junk = System.Text.Encoding.ASCII.GetBytes("definitely not an ICC profile, just bytes to fill the block...");
        byte[] payload = System.Text.Encoding.ASCII.GetBytes("ICC_PROFILE\0").Concat(new byte[] { 1, 1 }).Concat(junk).ToArray();
        int length = payload.Length + 2;
        byte[] source = clean.Take(2)
            .Concat(new byte[] { 0xFF, 0xE2, (byte)(length >> 8), (byte)length })
            .Concat(payload)
            .Concat(clean.Skip(2))
            .ToArray();
        using (Image check = Image.NewFromBuffer(source))
        {
            Assert.Contains("icc-profile-data", check.GetFields());
        }

        EncodedImage encoded = Convert(source, ImageFormat.Png, quality: 100);

        // The junk profile is ignored: the same pixels as the file without it.
        using Image decoded = DecodeAs(encoded, ImageFormat.Png);
        using Image withoutProfile = DecodeAs(Convert(clean, ImageFormat.Png, quality: 100), ImageFormat.Png);
        Assert.Equal((photo.Width, photo.Height), (decoded.Width, decoded.Height));
        double difference = MeanAbsDiff(decoded, withoutProfile);
        Assert.True(difference < 1, $"mean absolute difference {difference:F2}");
    }

    /// <summary>A pixel the source has fully transparent (alpha 0), away from the edges.</summary>
    private static (int X, int Y) TransparentPixel(Image input)
    {
        using Image alpha = input[input.Bands - 1].Cast(Enums.BandFormat.Uchar);
        byte[] a = alpha.WriteToMemory<byte>();
        bool Clear(int x, int y) => a[(y * input.Width) + x] == 0;
        for (int y = 2; y < input.Height - 2; y++)
        {
            for (int x = 2; x < input.Width - 2; x++)
            {
                if (Clear(x, y) && Clear(x - 2, y - 2) && Clear(x + 2, y + 2) && Clear(x - 2, y + 2) && Clear(x + 2, y - 2))
                {
                    return (x, y);
                }
            }
        }

        throw new InvalidOperationException("the fixture has no transparent pixel");
    }
}
