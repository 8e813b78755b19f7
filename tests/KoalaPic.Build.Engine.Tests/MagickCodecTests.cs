using System.Text;
using KoalaPic.Build.Engine;
using KoalaPic.Build.Tests;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.MagickTestSupport;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// ImageMagick's ico, bmp and pdf output and HEIC input, each output read back without ImageMagick: the ICO directory
/// and BMP/DIB pixels parsed here, PNG entries decoded by libvips, PDFs measured and rendered by poppler, HEIC made by
/// libheif's heif-enc from corpus images.
/// </summary>
public class MagickCodecTests
{
    // sharp's standard test photo, 2725x2225: at 640 wide it is 640x523, not square.
    private const string Photo = "2569067123_aca715a2ee_o.jpg";

    private static readonly int[] IcoSizes = { 16, 32, 48, 256 };

    // --- ico --------------------------------------------------------------------------------------------------

    [Fact]
    public void Ico_Photo_HasOneSquareEntryPerSizeLargestFirst_256AsPngSmallerAs32BitDib()
    {
        using Image photo = Thumbnail(Photo, 640);

        byte[] ico = MagickCodec.EncodeIco(photo, IcoSizes);

        List<IcoEntry> entries = ReadIco(ico);
        Assert.Equal(new[] { 256, 48, 32, 16 }, entries.Select(e => e.Width));
        Assert.All(entries, e => Assert.Equal(e.Width, e.Height));
        Assert.All(entries, e => Assert.Equal(32, e.BitCount));
        Assert.True(entries[0].IsPng, "the 256 px entry should be stored as PNG");
        Assert.All(entries.Skip(1), e => Assert.False(e.IsPng, $"the {e.Width} px entry should be a DIB"));

        foreach (IcoEntry entry in entries)
        {
            using Image decoded = DecodeEntry(entry);
            Assert.Equal(entry.Width, decoded.Width);
            Assert.Equal(entry.Height, decoded.Height);
            Assert.Equal(4, decoded.Bands);
            using Image expected = FittedOnTransparentSquare(photo, entry.Width);
            AssertSameRgba(expected, decoded, $"{entry.Width} px entry");
        }
    }

    [Fact]
    public void Ico_NonSquarePhoto_IsCentredOnTransparency()
    {
        using Image photo = Thumbnail(Photo, 640);

        IcoEntry entry = ReadIco(MagickCodec.EncodeIco(photo, new[] { 256 })).Single();

        // 640x523 fitted in 256 is 256x209: 23 transparent rows above, 24 below, the picture opaque in between.
        using Image decoded = DecodeEntry(entry);
        using Image alpha = decoded[3];
        Assert.Equal(0, alpha.Crop(0, 0, 256, 23).Max());
        Assert.Equal(0, alpha.Crop(0, 232, 256, 24).Max());
        Assert.Equal(255, alpha.Crop(0, 23, 256, 209).Min());

        // The picture itself: its centre has the colour of the photo's centre (independently of the resampler).
        double[] expected = BandMeans(Rgb(photo).Crop(280, 221, 80, 80));
        double[] actual = BandMeans(Rgb(decoded.ExtractBand(0, n: 3)).Crop(112, 111, 32, 32));
        AssertColourNear(expected, actual, 12);
    }

    [Fact]
    public void Ico_SizesLargerThanTheImage_AreLeftOut()
    {
        using Image small = Thumbnail(Photo, 40);

        List<IcoEntry> entries = ReadIco(MagickCodec.EncodeIco(small, IcoSizes));

        Assert.Equal(new[] { 32, 16 }, entries.Select(e => e.Width));
    }

    [Fact]
    public void Ico_NoSizeFits_OneEntryAtTheLongerSide()
    {
        using Image tiny = Thumbnail(Photo, 20);

        IcoEntry entry = ReadIco(MagickCodec.EncodeIco(tiny, new[] { 32, 64 })).Single();

        Assert.Equal(20, entry.Width);
        Assert.Equal(20, entry.Height);
        using Image decoded = DecodeEntry(entry);
        using Image expected = FittedOnTransparentSquare(tiny, 20);
        AssertSameRgba(expected, decoded, "20 px entry");
    }

    [Fact]
    public void Ico_ImageWithAlpha_KeepsItsTransparency()
    {
        using Image withAlpha = Thumbnail("with-alpha.png", 128);
        Assert.True(withAlpha.HasAlpha());

        List<IcoEntry> entries = ReadIco(MagickCodec.EncodeIco(withAlpha, new[] { 128, 32 }));

        Assert.Equal(new[] { 128, 32 }, entries.Select(e => e.Width));
        foreach (IcoEntry entry in entries)
        {
            using Image decoded = DecodeEntry(entry);
            using Image expected = FittedOnTransparentSquare(withAlpha, entry.Width);
            AssertSameRgba(expected, decoded, $"{entry.Width} px entry");
        }
    }

    [Fact]
    public void Ico_GreyImage_IsWrittenAsRgbWithEqualChannels()
    {
        using Image grey = Thumbnail(Photo, 64).Colourspace(Enums.Interpretation.Bw);
        Assert.Equal(1, grey.Bands);

        IcoEntry entry = ReadIco(MagickCodec.EncodeIco(grey, new[] { 64 })).Single();

        using Image decoded = DecodeEntry(entry);
        Assert.Equal(0, (decoded[0] - decoded[1]).Abs().Max());
        Assert.Equal(0, (decoded[1] - decoded[2]).Abs().Max());
        // 64x52 centred in 64x64: the picture starts 6 rows down, unchanged.
        Assert.Equal(52, grey.Height);
        Assert.Equal(0, MeanAbsDiff(decoded[0].Crop(0, 6, 64, 52), grey));
    }

    // --- bmp --------------------------------------------------------------------------------------------------

    [Fact]
    public void Bmp_Photo_Is24BitWithClassicHeaderAndExactlyTheSourcePixels()
    {
        using Image photo = Thumbnail(Photo, 640);

        Bmp bmp = ReadBmp(MagickCodec.EncodeBmp(photo));

        Assert.Equal(40, bmp.HeaderSize);
        Assert.Equal(24, bmp.BitCount);
        Assert.Equal(0, MeanAbsDiff(photo, bmp.Pixels));
        Assert.Equal(0, (photo.Cast(Enums.BandFormat.Int) - bmp.Pixels.Cast(Enums.BandFormat.Int)).Abs().Max());
    }

    [Fact]
    public void Bmp_ImageWithAlpha_Is32BitWithAnAlphaMaskAndExactlyTheSourcePixels()
    {
        using Image withAlpha = Thumbnail("with-alpha.png", 200);

        Bmp bmp = ReadBmp(MagickCodec.EncodeBmp(withAlpha));

        Assert.Equal(32, bmp.BitCount);
        Assert.Equal(3, bmp.Compression);
        Assert.Equal(0xFF000000u, bmp.AlphaMask);
        Assert.Equal(4, bmp.Pixels.Bands);
        Assert.Equal(0, (withAlpha.Cast(Enums.BandFormat.Int) - bmp.Pixels.Cast(Enums.BandFormat.Int)).Abs().Max());
    }

    [Fact]
    public void Bmp_GreyImage_IsExpandedToRgb()
    {
        using Image grey = Thumbnail(Photo, 100).Colourspace(Enums.Interpretation.Bw);

        Bmp bmp = ReadBmp(MagickCodec.EncodeBmp(grey));

        Assert.Equal(24, bmp.BitCount);
        for (int band = 0; band < 3; band++)
        {
            Assert.Equal(0, (bmp.Pixels[band].Cast(Enums.BandFormat.Int) - grey.Cast(Enums.BandFormat.Int)).Abs().Max());
        }
    }

    // --- pdf --------------------------------------------------------------------------------------------------

    /// <summary>
    /// Limits: the embedded image is exact when lossless and within JPEG's loss otherwise (measured 2.4 at q85); the
    /// page as poppler draws it differs from the source by its resampling (measured 4.6 lossless, 5.0 JPEG), while the
    /// mirrored source differs by more than 20.
    /// </summary>
    [SkippableTheory]
    [InlineData(true, 0.0)]
    [InlineData(false, 4.0)]
    public void Pdf_OnePageExactlyTheImageSizeInPoints_HoldingTheSourcePixels(bool lossless, double embeddedTolerance)
    {
        SystemRequirement.Require(PopplerAvailable, PopplerMissing);
        using Image photo = Thumbnail(Photo, 640);
        using var folder = new TempFolder();
        string path = folder.Combine("photo.pdf");

        File.WriteAllBytes(path, MagickCodec.EncodePdf(photo, 85, lossless));

        Dictionary<string, string> info = PdfInfo(path);
        Assert.Equal("1", info["Pages"]);
        Assert.Equal("640 x 523 pts", info["Page size"]);
        using Image embedded = ExtractPdfImage(path, folder);
        Assert.Equal(640, embedded.Width);
        Assert.Equal(523, embedded.Height);
        double embeddedDifference = MeanAbsDiff(Rgb(embedded), photo);
        Assert.True(embeddedDifference <= embeddedTolerance, $"embedded image differs from the source by {embeddedDifference:F2} (limit {embeddedTolerance})");

        using Image page = RenderPdfPage(path, folder);
        Assert.Equal(640, page.Width);
        Assert.Equal(523, page.Height);
        double rendered = MeanAbsDiff(Rgb(page), photo);
        Assert.True(rendered < 8, $"rendered page differs from the source by {rendered:F2}");
        double mirrored = MeanAbsDiff(Rgb(page), photo.FlipHor());
        Assert.True(mirrored > 20, $"the metric should tell a mirrored image ({mirrored:F2})");
    }

    [Fact]
    public void Pdf_LowerJpegQuality_GivesASmallerFile_AndLosslessIsFlate()
    {
        using Image photo = Thumbnail(Photo, 400);

        byte[] high = MagickCodec.EncodePdf(photo, 90, lossless: false);
        byte[] low = MagickCodec.EncodePdf(photo, 30, lossless: false);
        byte[] lossless = MagickCodec.EncodePdf(photo, 90, lossless: true);

        Assert.True(low.Length < high.Length, $"q30 is {low.Length} bytes, q90 is {high.Length}");
        Assert.Contains("/DCTDecode", Encoding.ASCII.GetString(high));
        string flate = Encoding.ASCII.GetString(lossless);
        Assert.Contains("/FlateDecode", flate);
        Assert.DoesNotContain("/DCTDecode", flate);
    }

    [SkippableFact]
    public void Pdf_DatesAreFixedAndNothingDependsOnTheRun()
    {
        SystemRequirement.Require(PopplerAvailable, PopplerMissing);
        using Image photo = Thumbnail(Photo, 64);
        using var folder = new TempFolder();
        string path = folder.Combine("photo.pdf");
        byte[] pdf = MagickCodec.EncodePdf(photo, 85, lossless: false);
        File.WriteAllBytes(path, pdf);

        Dictionary<string, string> info = PdfInfo(path);

        Assert.Contains("1980", info["CreationDate"]);
        Assert.Contains("1980", info["ModDate"]);
        Assert.False(info.ContainsKey("Title"), "the title would be ImageMagick's temporary file name");
        string text = Encoding.ASCII.GetString(pdf);
        Assert.DoesNotContain("magick-", text);
        Assert.DoesNotContain("/ID [", text);
    }

    // --- all encoders -------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("ico")]
    [InlineData("bmp")]
    [InlineData("pdf-jpeg")]
    [InlineData("pdf-flate")]
    public void SameImage_EncodedTwice_GivesIdenticalBytes(string format)
    {
        using Image photo = Thumbnail(Photo, 300);
        Func<byte[]> encode = format switch
        {
            "ico" => () => MagickCodec.EncodeIco(photo, IcoSizes),
            "bmp" => () => MagickCodec.EncodeBmp(photo),
            "pdf-jpeg" => () => MagickCodec.EncodePdf(photo, 80, lossless: false),
            _ => () => MagickCodec.EncodePdf(photo, 80, lossless: true),
        };

        byte[] first = encode();
        Thread.Sleep(1100); // across a second boundary, where a timestamp would change
        byte[] second = encode();

        Assert.True(first.Length > 0);
        Assert.Equal(first, second);
    }

    // --- heic ---------------------------------------------------------------------------------------------------

    [SkippableFact]
    public void Heic_Photo_DecodesToTheJpegsPixels()
    {
        SystemRequirement.Require(HeifEncAvailable, HeifEncMissing);
        using var folder = new TempFolder();
        byte[] heic = HeifEnc(Fixture("Landscape_1.jpg"), folder);

        using Image decoded = MagickCodec.DecodeHeic(heic, ImageConverter.DefaultMaxPixels);

        Assert.Equal(600, decoded.Width);
        Assert.Equal(450, decoded.Height);
        Assert.Equal(3, decoded.Bands);
        Assert.Equal(Enums.BandFormat.Uchar, decoded.Format);
        Assert.Equal(Enums.Interpretation.Srgb, decoded.Interpretation);
        Assert.False(decoded.Contains("icc-profile-data"));
        using Image jpeg = Image.NewFromBuffer(FixtureBytes("Landscape_1.jpg")).CopyMemory();
        double difference = MeanAbsDiff(decoded, jpeg);
        Assert.True(difference < 4, $"decoded HEIC differs from the JPEG it was made from by {difference:F2}");
        Assert.True(MeanAbsDiff(decoded, jpeg.FlipHor()) > 20, "the metric should tell a mirrored image");
    }

    [SkippableFact]
    public void Heic_WithAnIccProfile_CarriesItAsIccProfileData()
    {
        SystemRequirement.Require(HeifEncAvailable, HeifEncMissing);
        using var folder = new TempFolder();
        using Image jpeg = Image.NewFromBuffer(FixtureBytes("Landscape_5.jpg"));
        var expectedProfile = (byte[])jpeg.Get("icc-profile-data");
        byte[] heic = HeifEnc(Fixture("Landscape_5.jpg"), folder);

        using Image decoded = MagickCodec.DecodeHeic(heic, ImageConverter.DefaultMaxPixels);

        Assert.True(decoded.Contains("icc-profile-data"));
        Assert.Equal(expectedProfile, (byte[])decoded.Get("icc-profile-data"));
    }

    /// <summary>
    /// HEIF's orientation is the container's irot/imir, which libheif applies; the EXIF Orientation tag is informational
    /// and must be ignored (ImageMagick resets it), or phone photos would be rotated twice. heif-enc 1.15 keeps the JPEG's
    /// EXIF tag (6 here) and writes no irot, so the decoded image is the JPEG's stored, unrotated pixels.
    /// </summary>
    [SkippableFact]
    public void Heic_ExifOrientationWithoutIrot_IsNotApplied()
    {
        SystemRequirement.Require(HeifEncAvailable, HeifEncMissing);
        using var folder = new TempFolder();
        byte[] heic = HeifEnc(Fixture("Landscape_6.jpg"), folder);

        using Image decoded = MagickCodec.DecodeHeic(heic, ImageConverter.DefaultMaxPixels);

        using Image stored = Image.NewFromBuffer(FixtureBytes("Landscape_6.jpg")).CopyMemory();
        Assert.Equal(stored.Width, decoded.Width);
        Assert.Equal(stored.Height, decoded.Height);
        Assert.True(MeanAbsDiff(decoded, stored) < 4);
        Assert.False(decoded.Contains("orientation"));
        Assert.False(decoded.Contains("exif-data"));
    }

    [SkippableTheory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Heic_IrotRotation_IsAppliedWhileDecoding(int quarterTurnsAnticlockwise)
    {
        SystemRequirement.Require(HeifEncAvailable, HeifEncMissing);
        using var folder = new TempFolder();
        byte[] heic = HeifBoxes.WithRotation(HeifEnc(Fixture("Landscape_1.jpg"), folder), quarterTurnsAnticlockwise);

        using Image decoded = MagickCodec.DecodeHeic(heic, ImageConverter.DefaultMaxPixels);

        using Image jpeg = Image.NewFromBuffer(FixtureBytes("Landscape_1.jpg")).CopyMemory();
        // libvips rotates clockwise: n quarter turns anticlockwise are 4 - n clockwise.
        var clockwise = (4 - quarterTurnsAnticlockwise) switch
        {
            1 => Enums.Angle.D90,
            2 => Enums.Angle.D180,
            _ => Enums.Angle.D270,
        };
        using Image expected = jpeg.Rot(clockwise);
        Assert.Equal(expected.Width, decoded.Width);
        Assert.Equal(expected.Height, decoded.Height);
        double difference = MeanAbsDiff(decoded, expected);
        Assert.True(difference < 4, $"irot {quarterTurnsAnticlockwise}: differs from the rotated JPEG by {difference:F2}");
    }

    [SkippableFact]
    public void Heic_WithAlpha_DecodesToFourBands()
    {
        SystemRequirement.Require(HeifEncAvailable, HeifEncMissing);
        using var folder = new TempFolder();
        byte[] heic = HeifEnc(Fixture("with-alpha.png"), folder);

        using Image decoded = MagickCodec.DecodeHeic(heic, ImageConverter.DefaultMaxPixels);

        using Image png = Image.NewFromBuffer(FixtureBytes("with-alpha.png")).CopyMemory();
        Assert.Equal(png.Width, decoded.Width);
        Assert.Equal(png.Height, decoded.Height);
        Assert.Equal(4, decoded.Bands);
        Assert.True(MeanAbsDiff(decoded[3], png[3]) < 3, "alpha should survive");
    }

    [SkippableFact]
    public void Heic_DecodedImage_OwnsItsPixelsAndFeedsLibvipsEncoders()
    {
        SystemRequirement.Require(HeifEncAvailable, HeifEncMissing);
        using var folder = new TempFolder();
        byte[] heic = HeifEnc(Fixture("Landscape_1.jpg"), folder);
        Image decoded = MagickCodec.DecodeHeic(heic, ImageConverter.DefaultMaxPixels);
        GC.Collect();
        GC.WaitForPendingFinalizers();

        byte[] webp = decoded.WebpsaveBuffer(q: 80);
        decoded.Dispose();

        using Image roundTrip = Image.NewFromBuffer(webp);
        Assert.Equal(600, roundTrip.Width);
        Assert.Equal(450, roundTrip.Height);
    }

    [SkippableFact]
    public void Heic_OverThePixelLimit_IsRefusedFromItsHeader()
    {
        SystemRequirement.Require(HeifEncAvailable, HeifEncMissing);
        using var folder = new TempFolder();
        byte[] heic = HeifEnc(Fixture("Landscape_1.jpg"), folder);

        var error = Assert.Throws<ImageConversionException>(() => MagickCodec.DecodeHeic(heic, 1000));

        Assert.Equal(DiagnosticCodes.TooManyPixels, error.Code);
        Assert.Equal("is 600x450 = 270,000 pixels, over the limit of 1,000 (KoalaPicMaxPixels)", error.Message);
    }

    /// <summary>A 600x450 HEIC whose header claims 30000x30000 (900 million pixels, 2.7 GB decoded).</summary>
    [SkippableFact]
    public void Heic_DecompressionBomb_IsRefusedBeforeDecoding()
    {
        SystemRequirement.Require(HeifEncAvailable, HeifEncMissing);
        using var folder = new TempFolder();
        byte[] bomb = HeifBoxes.WithImageSize(HeifEnc(Fixture("Landscape_1.jpg"), folder), 30_000, 30_000);

        var error = Assert.Throws<ImageConversionException>(() => MagickCodec.DecodeHeic(bomb, ImageConverter.DefaultMaxPixels));

        Assert.Equal(DiagnosticCodes.TooManyPixels, error.Code);
        Assert.StartsWith("is 30000x30000 = 900,000,000 pixels, over the limit of 268,402,689", error.Message);
    }

    [SkippableTheory]
    [InlineData("png")]
    [InlineData("jpeg")]
    [InlineData("avif")]
    [InlineData("mvg")]
    [InlineData("random")]
    [InlineData("truncated")]
    [InlineData("empty")]
    public void Heic_NotAHeic_IsCannotDecodeWithAOneLineReason(string kind)
    {
        bool needsHeifEnc = kind == "truncated";
        SystemRequirement.Require(!needsHeifEnc || HeifEncAvailable, HeifEncMissing);
        using var folder = new TempFolder();
        byte[] source = kind switch
        {
            "png" => FixtureBytes("with-alpha.png"),
            "jpeg" => FixtureBytes("Landscape_1.jpg"),
            "avif" => FixtureBytes("sdr_cosmos12920_cicp1-13-6_yuv444_full_qp10.avif"),
            "mvg" => Encoding.ASCII.GetBytes("push graphic-context\nviewbox 0 0 64 64\nfill red\nrectangle 0 0 63 63\npop graphic-context\n"),
            "random" => Enumerable.Range(0, 4096).Select(i => (byte)((i * 7919) ^ (i >> 3))).ToArray(),
            "truncated" => HeifEnc(Fixture("Landscape_1.jpg"), folder) is var full ? full.Take(full.Length / 2).ToArray() : Array.Empty<byte>(),
            _ => Array.Empty<byte>(),
        };

        var error = Assert.Throws<ImageConversionException>(() => MagickCodec.DecodeHeic(source, ImageConverter.DefaultMaxPixels));

        Assert.Equal(DiagnosticCodes.CannotDecode, error.Code);
        Assert.Matches(source.Length == 0 ? "^is empty$" : "^cannot be decoded: .+", error.Message);
        Assert.DoesNotContain("\n", error.Message);
        Assert.DoesNotContain(" @ ", error.Message);
    }

    [Theory]
    [InlineData("heic", "mif1,heic", true)]
    [InlineData("mif1", "mif1,heic", true)]
    [InlineData("heix", "", true)]
    [InlineData("msf1", "msf1,hevc", true)]
    [InlineData("avif", "mif1,avif", false)]
    [InlineData("mif1", "mif1,miaf", false)]
    public void HeifBrands_TellHevcCodedHeifFromOthers(string major, string compatible, bool heic)
    {
        byte[] ftyp = Ftyp(major, compatible.Split(',', StringSplitOptions.RemoveEmptyEntries));

        Assert.Equal(heic, HeifBrands.IsHeic(ftyp.Concat(new byte[64]).ToArray()));
    }

    [Fact]
    public void HeifBrands_AvifFixtureAndOtherFormats_AreNotHeic()
    {
        Assert.False(HeifBrands.IsHeic(FixtureBytes("sdr_cosmos12920_cicp1-13-6_yuv444_full_qp10.avif")));
        Assert.False(HeifBrands.IsHeic(FixtureBytes("with-alpha.png")));
        Assert.False(HeifBrands.IsHeic(Array.Empty<byte>()));
        // A box size beyond the data, or not a multiple of 4, is not trusted.
        byte[] lying = Ftyp("heic", new[] { "mif1" });
        lying[3] = 200;
        Assert.False(HeifBrands.IsHeic(lying));
    }

    private static byte[] Ftyp(string major, string[] compatible)
    {
        var box = new List<byte>();
        int size = 16 + (4 * compatible.Length);
        box.AddRange(new[] { (byte)(size >> 24), (byte)(size >> 16), (byte)(size >> 8), (byte)size });
        box.AddRange(Encoding.ASCII.GetBytes("ftyp" + major));
        box.AddRange(new byte[4]);
        foreach (string brand in compatible)
        {
            box.AddRange(Encoding.ASCII.GetBytes(brand));
        }

        return box.ToArray();
    }

    // --- helpers ------------------------------------------------------------------------------------------------

    private static Image DecodeEntry(IcoEntry entry) =>
        entry.IsPng ? Image.NewFromBuffer(entry.Data, access: Enums.Access.Random).CopyMemory() : DecodeIcoDib(entry.Data, entry.Width, entry.Height);

    /// <summary>What an entry should hold: the image fitted in size x size by libvips, centred on transparency.</summary>
    private static Image FittedOnTransparentSquare(Image image, int size)
    {
        Image rgba = image.Bands < 3 ? image.Colourspace(Enums.Interpretation.Srgb) : image;
        if (!rgba.HasAlpha())
        {
            rgba = rgba.Bandjoin(255);
        }

        Image fitted = rgba.Width > size || rgba.Height > size ? rgba.ThumbnailImage(size, height: size, size: Enums.Size.Down) : rgba;
        return fitted.Gravity(Enums.CompassDirection.Centre, size, size, extend: Enums.Extend.Background, background: new double[] { 0, 0, 0, 0 })
            .Cast(Enums.BandFormat.Uchar)
            .CopyMemory();
    }

    /// <summary>Same alpha, and the same colour wherever a pixel is visible (a transparent pixel's colour is free).</summary>
    private static void AssertSameRgba(Image expected, Image actual, string what)
    {
        Assert.Equal(expected.Width, actual.Width);
        Assert.Equal(expected.Height, actual.Height);
        double alpha = MeanAbsDiff(expected[3], actual[3]);
        Assert.True(alpha < 0.01, $"{what}: alpha differs by {alpha:F3}");
        double colour = MeanAbsDiff(Rgb(expected), Rgb(actual));
        Assert.True(colour < 0.5, $"{what}: colour differs by {colour:F3}");
    }

    private static double[] BandMeans(Image image) => Enumerable.Range(0, 3).Select(b => image[b].Avg()).ToArray();
}
