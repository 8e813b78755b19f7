using ImageMagick;
using KoalaPic.Build.Engine;
using KoalaPic.Build.Tests;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// Format="jxl" through ImageMagick's libjxl coder, on corpus images: outputs decoded back (by libjxl through
/// ImageMagick: libvips here has no JXL loader, and no other JXL decoder is installed) and compared with libvips' own
/// thumbnail of the source; JXL sources converted to the other formats; broken JXL sources refused with KP2xxx codes.
/// </summary>
public sealed class JxlTests : IDisposable
{
    private const string Photo = "2569067123_aca715a2ee_o.jpg";

    private readonly BatchWorkspace ws = new();

    public void Dispose() => ws.Dispose();

    private static bool IsJxl(byte[] bytes) =>
        bytes.AsSpan().StartsWith(new byte[] { 0xFF, 0x0A })
        || bytes.AsSpan().StartsWith(new byte[] { 0x00, 0x00, 0x00, 0x0C, (byte)'J', (byte)'X', (byte)'L', (byte)' ', 0x0D, 0x0A, 0x87, 0x0A });

    /// <summary>Checks the signature and that the reported size is the decoded size.</summary>
    private static Image DecodeJxl(EncodedImage encoded)
    {
        Assert.True(IsJxl(encoded.Bytes), "output does not start with a JPEG XL signature");
        Image image = MagickCodec.DecodeJxl(encoded.Bytes, ImageConverter.DefaultMaxPixels);
        Assert.Equal((encoded.Width, encoded.Height), (image.Width, image.Height));
        return image;
    }

    private static EncodedImage ToJxl(byte[] source, int? width, int quality = 80, bool lossless = false) =>
        Convert(source, new ConversionOptions(ImageFormat.Jxl, quality, width, null) { Lossless = lossless });

    [Theory]
    [InlineData(Photo)]
    [InlineData("concert.jpg")]
    [InlineData("flowers.jpeg")]
    [InlineData("Landscape_1.jpg")]
    public void Photo_RoundTrips_AtTheRequestedSize_LookingLikeTheSource(string name)
    {
        byte[] source = FixtureBytes(name);

        EncodedImage jxl = ToJxl(source, 480, quality: 90);

        using Image decoded = DecodeJxl(jxl);
        using Image reference = ReferenceInBox(source, 480, null);
        Assert.Equal((reference.Width, reference.Height), (decoded.Width, decoded.Height));
        Assert.Equal(3, decoded.Bands);
        // Another picture, or this one turned, differs by tens of levels per sample.
        double difference = MeanAbsDiff(reference, Rgb(decoded));
        Assert.True(difference < 6, $"{name}: decoded JXL differs from the source by {difference:F2} per sample");
    }

    [Fact]
    public void AlphaPng_KeepsItsTransparency()
    {
        byte[] source = FixtureBytes("with-alpha.png");

        EncodedImage jxl = ToJxl(source, 200);

        using Image decoded = DecodeJxl(jxl);
        Assert.Equal(4, decoded.Bands);
        using Image loaded = Image.ThumbnailBuffer(source, 200, height: 10_000_000, size: Enums.Size.Down);
        using Image thumbnail = loaded.CopyMemory();
        Assert.True(thumbnail.HasAlpha());
        using Image expectedAlpha = thumbnail[thumbnail.Bands - 1].Cast(Enums.BandFormat.Uchar);
        using Image actualAlpha = decoded[3];
        Assert.True(expectedAlpha.Min() < 255, "the fixture should have transparent parts");
        double difference = MeanAbsDiff(expectedAlpha, actualAlpha);
        Assert.True(difference < 3, $"alpha differs by {difference:F2} per pixel");
    }

    [Fact]
    public void Lossless_GivesExactlyTheSourcePixels_AndIsLargerThanLossy()
    {
        byte[] source = PngSuiteBytes("basn6a08.png"); // 32x32 RGBA

        EncodedImage lossless = ToJxl(source, null, lossless: true);
        EncodedImage lossy = ToJxl(source, null, quality: 50);

        using Image decoded = DecodeJxl(lossless);
        using Image original = Image.NewFromBuffer(source);
        Assert.Equal(0, MeanAbsDiff(original, decoded));
        Assert.True(lossy.Bytes.Length < lossless.Bytes.Length, $"lossy {lossy.Bytes.Length} bytes, lossless {lossless.Bytes.Length}");
    }

    [Fact]
    public void LowerQuality_GivesFewerBytes()
    {
        byte[] source = FixtureBytes(Photo);

        int high = ToJxl(source, 480, quality: 90).Bytes.Length;
        int low = ToJxl(source, 480, quality: 40).Bytes.Length;

        Assert.True(low < high, $"q40 {low} bytes, q90 {high} bytes");
    }

    [Theory]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(8)]
    public void ExifRotatedJpeg_IsWrittenUpright(int orientation)
    {
        // Landscape_1..8 are one 600x450 photo stored in the 8 EXIF orientations (6 and 8 stored 450x600).
        byte[] source = FixtureBytes($"Landscape_{orientation}.jpg");

        EncodedImage jxl = ToJxl(source, null, quality: 95);

        using Image decoded = DecodeJxl(jxl);
        Assert.Equal((600, 450), (decoded.Width, decoded.Height));
        EncodedImage uprightPng = Convert(FixtureBytes("Landscape_1.jpg"), new ConversionOptions(ImageFormat.Png, 100, null, null) { Lossless = true });
        using Image upright = Rgb(DecodeAs(uprightPng, ImageFormat.Png));
        using Image turned = upright.Rot180();
        double same = MeanAbsDiff(upright, Rgb(decoded));
        double asIfTurned = MeanAbsDiff(turned, Rgb(decoded));
        Assert.True(same < asIfTurned / 2, $"not upright: differs from the upright photo by {same:F2} per sample, from it turned by {asIfTurned:F2}");
    }

    [Theory]
    [InlineData("p3.png")]
    [InlineData("prophoto.png")]
    public void WideGamutSource_IsConvertedToSrgb_LikeTheOtherFormats(string name)
    {
        byte[] source = FixtureBytes(name);

        using Image jxl = DecodeJxl(ToJxl(source, 200, lossless: true));
        EncodedImage png = Convert(source, new ConversionOptions(ImageFormat.Png, 100, 200, null) { Lossless = true });
        using Image pngPixels = DecodeAs(png, ImageFormat.Png);

        Assert.True(MeanAbsDiff(Rgb(pngPixels), Rgb(jxl)) < 1, "the JXL's colours differ from the PNG's: the profile was not converted the same way");
    }

    [Fact]
    public void JxlSource_ConvertsToWebp_AtTheRequestedSize()
    {
        // The same 640 px pixels as a lossless PNG and as JXL: converted to 320 wide, both must look alike.
        byte[] png = Convert(FixtureBytes(Photo), new ConversionOptions(ImageFormat.Png, 100, 640, null) { Lossless = true }).Bytes;
        byte[] jxl = ToJxl(png, null, quality: 95).Bytes;

        EncodedImage webp = Convert(jxl, ImageFormat.Webp, width: 320);

        using Image decoded = DecodeAs(webp, ImageFormat.Webp);
        using Image reference = ReferenceInBox(png, 320, null);
        Assert.Equal((reference.Width, reference.Height), (decoded.Width, decoded.Height));
        Assert.True(MeanAbsDiff(reference, Rgb(decoded)) < 5);
    }

    [Fact]
    public void JxlSourceWithOrientation_IsTurnedUpright()
    {
        // A 64x48 image, left half red, right half blue, stored with orientation 6 (turn a quarter clockwise to view).
        MagickRuntime.EnsureInitialized();
        var pixels = new byte[64 * 48 * 3];
        for (int i = 0; i < 64 * 48; i++)
        {
            bool left = i % 64 < 32;
            pixels[(i * 3) + (left ? 0 : 2)] = 255;
        }

        byte[] source;
        using (var image = new MagickImage())
        {
            image.ReadPixels(pixels, new PixelReadSettings(64, 48, StorageType.Char, PixelMapping.RGB));
            image.Orientation = Orientation.RightTop;
            image.Settings.SetDefine("jxl:distance", "0");
            source = image.ToByteArray(MagickFormat.Jxl);
        }

        EncodedImage png = Convert(source, ImageFormat.Png, quality: 100);

        using Image decoded = DecodeAs(png, ImageFormat.Png);
        Assert.Equal((48, 64), (decoded.Width, decoded.Height));
        // Turned clockwise, the left (red) half is on top.
        AssertColourNear(new double[] { 255, 0, 0 }, decoded.Getpoint(24, 8), 2);
        AssertColourNear(new double[] { 0, 0, 255 }, decoded.Getpoint(24, 56), 2);
    }

    [Fact]
    public void JxlSource_OverThePixelLimit_IsRefusedFromItsHeader()
    {
        byte[] jxl = ToJxl(FixtureBytes(Photo), 640).Bytes;

        var error = Assert.Throws<ImageConversionException>(() => Convert(jxl, ImageFormat.Webp, maxPixels: 1000));

        Assert.Equal(DiagnosticCodes.TooManyPixels, error.Code);
        Assert.Contains("over the limit of 1,000 (KoalaPicMaxPixels)", error.Message);
    }

    [Fact]
    public void JxlSource_OverTheSourceByteLimit_IsKP2011()
    {
        byte[] jxl = ToJxl(FixtureBytes(Photo), 640).Bytes;
        ws.WriteSource("img/photo.jxl", jxl);

        BatchResult result = new ImageBatch(ws.Settings() with { MaxSourceBytes = jxl.Length - 1 }).Run(new[] { ws.Request("img/photo.jxl", ("Format", "webp")) });

        ItemResult item = Assert.Single(result.Items);
        Assert.Equal(DiagnosticCodes.SourceTooLarge, item.Diagnostic!.Code);
        Assert.Contains("KoalaPicMaxSourceBytes", item.Diagnostic.Message);
    }

    /// <summary>
    /// A real JXL truncated at several lengths and with bytes flipped at several places, through the whole batch: each
    /// item either converts (a flipped byte in entropy-coded data can still decode) or fails with one KP2xxx error naming
    /// the item and the file, and no output. Truncated files must all fail. The run must end: a hang fails the test at
    /// the deadline instead of blocking the suite.
    /// </summary>
    [Fact]
    public async Task DamagedJxlSources_FailWithKP2Codes_NamingItemAndFile_WithoutCrashOrHang()
    {
        byte[] jxl = ToJxl(FixtureBytes("concert.jpg"), 320).Bytes;
        var files = new List<(string Name, byte[] Bytes, bool MustFail)>();
        foreach (int length in new[] { 1, 2, 12, 40, jxl.Length / 4, jxl.Length / 2, jxl.Length - 10 })
        {
            files.Add(($"cut-{length}.jxl", jxl.AsSpan(0, length).ToArray(), true));
        }

        var random = new Random(22);
        for (int i = 0; i < 12; i++)
        {
            byte[] flipped = (byte[])jxl.Clone();
            int at = i < 4 ? 2 + (i * 5) : random.Next(2, jxl.Length); // the header first, then anywhere
            flipped[at] ^= (byte)(1 << random.Next(8));
            files.Add(($"flip-{i}-at-{at}.jxl", flipped, false));
        }

        var requests = new List<ImageRequest>();
        foreach (var (name, bytes, _) in files)
        {
            ws.WriteSource("img/" + name, bytes);
            requests.Add(ws.Request("img/" + name, ("Format", "webp")));
        }

        Task<BatchResult> run = Task.Run(() => ws.Run(requests));
        Task first = await Task.WhenAny(run, Task.Delay(TimeSpan.FromMinutes(5)));
        Assert.True(first == run, "the batch did not end within 5 minutes: a damaged JXL hangs the decoder");
        BatchResult result = await run;

        Assert.Equal(files.Count, result.Items.Count);
        for (int i = 0; i < files.Count; i++)
        {
            ItemResult item = result.Items[i];
            if (item.Succeeded)
            {
                Assert.False(files[i].MustFail, $"{files[i].Name} converted, but it is truncated");
                continue;
            }

            Diagnostic diagnostic = item.Diagnostic!;
            Assert.StartsWith("KP2", diagnostic.Code);
            Assert.StartsWith($"KoalaImage '{item.Request.ItemSpec}': ", diagnostic.Message);
            Assert.Contains(item.Request.SourcePath, diagnostic.Message);
            Assert.Equal(item.Request.SourcePath, diagnostic.File);
            Assert.DoesNotContain("\n", diagnostic.Message);
            Assert.DoesNotContain(" at KoalaPic.", diagnostic.Message);
            Assert.False(File.Exists(ws.OutputFile(item.Request)), $"{files[i].Name} failed but has an output");
        }

        Assert.Contains(result.Items, i => !i.Succeeded);
    }

    [Fact]
    public void MissingJxlCoder_IsKP0004_SayingWhatIsMissing()
    {
        var missing = new MagickMissingDelegateErrorException("no encode delegate for this image format `JXL'");

        ImageConversionException error = MagickCodec.MissingCoder("JXL", "write", missing);

        Assert.Equal(DiagnosticCodes.ImageMagickUnavailable, error.Code);
        Assert.Contains("has no JXL coder to write it with", error.Message);
        Assert.Contains("Magick.NET " + MagickCodec.MagickNetVersion, error.Message);
        Assert.Contains("no encode delegate", error.Message);
    }

    [Theory]
    [InlineData("jxl")]
    [InlineData("jpeg-xl")]
    [InlineData("JXL")]
    public void FormatNames_MeanJxl_AndItsFactsComeFromTheDescriptor(string name)
    {
        Assert.True(ImageFormats.TryParse(name, out ImageFormat format));
        Assert.Equal(ImageFormat.Jxl, format);
        FormatDescriptor jxl = ImageFormats.Of(format);
        Assert.Equal((".jxl", "image/jxl", FormatEncoder.ImageMagick), (jxl.Extension, jxl.MimeType, jxl.Encoder));
        Assert.True(jxl.CarriesAlpha && jxl.SupportsLossless && jxl.TakesQuality && jxl.DecodedByImageMagick);
        Assert.False(jxl.CanAnimate || jxl.SmartQualityApplies);
        Assert.True(ImageMagickNeed.For("img/a.png", m => m == "Format" ? "avif;" + name : ""));
        Assert.True(ImageMagickNeed.For("img/a.jxl", _ => ""));
    }
}
