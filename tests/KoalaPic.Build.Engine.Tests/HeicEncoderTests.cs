using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using KoalaPic.Build.Engine;
using KoalaPic.Build.Tests;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// HEIC through the system libheif and x265, checked with libheif's own command-line tools (heif-info, heif-convert)
/// rather than with the encoder's library: libvips' bundled libheif cannot decode HEVC.
/// </summary>
public class HeicEncoderTests
{
    // sharp's standard test photo, 2725x2225; at 640 wide it is 640x523, an odd height HEVC must pad and crop.
    private const string Photo = "2569067123_aca715a2ee_o.jpg";
    private const int Width = 640;
    private const int Height = 523;

    private const string EncoderMissing =
        "libheif's x265 HEVC encoder is missing (Debian/Ubuntu: apt-get install libheif1, and libheif-plugin-x265 where it exists)";

    private const string ToolsMissing =
        "heif-info and heif-convert are missing (Debian/Ubuntu: apt-get install libheif-examples, and libheif-plugin-libde265 where it exists)";

    private static void RequireEncoder()
    {
        bool available = HeicEncoder.IsAvailable(out string reason);
        SystemRequirement.Require(available, $"{EncoderMissing}: {reason}");
    }

    private static void RequireTools() =>
        SystemRequirement.Require(
            SystemRequirement.FindOnPath("heif-info") != null && SystemRequirement.FindOnPath("heif-convert") != null,
            ToolsMissing);

    private static Image PhotoAt640()
    {
        VipsRuntime.EnsureInitialized();
        using Image thumbnail = Image.ThumbnailBuffer(FixtureBytes(Photo), Width);
        return thumbnail.CopyMemory();
    }

    [SkippableFact]
    public void Encode_Photo_IsHevcCodedHeicThatLibheifToolsReadBackAsThePhoto()
    {
        RequireEncoder();
        RequireTools();
        using Image photo = PhotoAt640();
        Assert.Equal((Width, Height), (photo.Width, photo.Height));

        byte[] heic = HeicEncoder.Encode(photo, 80, lossless: false);

        Assert.Equal("heic", MajorBrand(heic));
        using var folder = new TempFolder();
        string file = folder.Combine("photo.heic");
        File.WriteAllBytes(file, heic);

        string info = Run("heif-info", file);
        Assert.Contains("MIME type: image/heic", info);
        Assert.Matches(new Regex($@"image: {Width}x{Height} \(id=\d+\), primary"), info);
        Assert.Contains("alpha channel: no", info);
        // No metadata: heif-info lists Exif/XMP blocks under "metadata:" only when there are some.
        Assert.DoesNotContain("Exif", info);
        Assert.DoesNotContain("XMP", info);
        // The primary item is coded with HEVC: an 'hvc1' item with its 'hvcC' decoder configuration.
        Assert.True(ContainsAscii(heic, "hvc1") && ContainsAscii(heic, "hvcC"), "no hvc1 item / hvcC box in the file");

        using Image decoded = DecodeWithHeifConvert(file, folder);
        Assert.Equal((Width, Height), (decoded.Width, decoded.Height));
        Assert.Equal(3, decoded.Bands);
        double difference = MeanAbsDiff(decoded, photo);
        // Measured 2.1 at quality 80 (x265, 4:2:0); a wrong picture (the mirror) is far off.
        Assert.True(difference < 5, $"mean absolute difference {difference:F2}");
        Assert.True(MeanAbsDiff(decoded, photo.FlipHor()) > 20, "the mirrored photo should differ");
    }

    [SkippableFact]
    public void Encode_LowerQuality_GivesASmallerFile()
    {
        RequireEncoder();
        using Image photo = PhotoAt640();

        byte[] low = HeicEncoder.Encode(photo, 20, lossless: false);
        byte[] high = HeicEncoder.Encode(photo, 95, lossless: false);

        Assert.True(low.Length < high.Length, $"q20 is {low.Length} bytes, q95 is {high.Length} bytes");
    }

    [SkippableFact]
    public void Encode_SameImageTwice_GivesTheSameBytes()
    {
        RequireEncoder();
        using Image photo = PhotoAt640();

        byte[] first = HeicEncoder.Encode(photo, 60, lossless: false);
        byte[] second = HeicEncoder.Encode(photo, 60, lossless: false);

        Assert.Equal(first, second);
    }

    [SkippableFact]
    public void Encode_Lossless_DecodesToExactlyTheInputPixels()
    {
        RequireEncoder();
        RequireTools();
        using Image photo = PhotoAt640();
        using Image small = photo.Crop(0, 0, 200, 151);

        byte[] heic = HeicEncoder.Encode(small, 50, lossless: true);

        using var folder = new TempFolder();
        string file = folder.Combine("lossless.heic");
        File.WriteAllBytes(file, heic);
        using Image decoded = DecodeWithHeifConvert(file, folder);
        Assert.Equal(0, MeanAbsDiff(decoded, small));
        // Lossless is not merely "quality 100": that one is measurably lossy.
        byte[] q100 = HeicEncoder.Encode(small, 100, lossless: false);
        File.WriteAllBytes(file, q100);
        using Image decodedQ100 = DecodeWithHeifConvert(file, folder);
        Assert.True(MeanAbsDiff(decodedQ100, small) > 0, "quality 100 unexpectedly decoded to the exact pixels");
    }

    [SkippableFact]
    public void Encode_PhotoWithShapedAlpha_KeepsTheAlphaChannel()
    {
        RequireEncoder();
        RequireTools();
        using Image photo = PhotoAt640();
        // Alpha rising from 0 on the left to 255 on the right, so a lost or mirrored alpha plane shows.
        using Image ramp = (Image.Xyz(Width, Height)[0] * (255.0 / (Width - 1))).Cast(Enums.BandFormat.Uchar);
        using Image source = photo.Bandjoin(ramp).Copy(interpretation: Enums.Interpretation.Srgb).CopyMemory();

        byte[] heic = HeicEncoder.Encode(source, 80, lossless: false);

        using var folder = new TempFolder();
        string file = folder.Combine("alpha.heic");
        File.WriteAllBytes(file, heic);
        Assert.Contains("alpha channel: yes", Run("heif-info", file));
        using Image decoded = DecodeWithHeifConvert(file, folder);
        Assert.Equal(4, decoded.Bands);
        Assert.Equal((Width, Height), (decoded.Width, decoded.Height));
        // The alpha plane is coded as its own HEVC image at the same quality: close, not exact.
        double alphaDifference = MeanAbsDiff(decoded[3], source[3]);
        Assert.True(alphaDifference < 3, $"alpha mean absolute difference {alphaDifference:F2}");
        Assert.True(MeanAbsDiff(decoded[3], source[3].FlipHor()) > 60, "the mirrored alpha ramp should differ");
        // Colour is kept as is (not premultiplied or flattened).
        double colourDifference = MeanAbsDiff(decoded.ExtractBand(0, 3), photo);
        Assert.True(colourDifference < 5, $"colour mean absolute difference {colourDifference:F2}");
    }

    [SkippableFact]
    public void Encode_SemiTransparentPng_KeepsItsAlphaLevel()
    {
        RequireEncoder();
        RequireTools();
        VipsRuntime.EnsureInitialized();
        // sharp's with-alpha.png: RGBA, every pixel's alpha is 168.
        using Image source = Image.NewFromBuffer(FixtureBytes("with-alpha.png")).CopyMemory();
        Assert.Equal(4, source.Bands);

        byte[] heic = HeicEncoder.Encode(source, 90, lossless: false);

        using var folder = new TempFolder();
        string file = folder.Combine("semi.heic");
        File.WriteAllBytes(file, heic);
        using Image decoded = DecodeWithHeifConvert(file, folder);
        Assert.Equal(4, decoded.Bands);
        double difference = MeanAbsDiff(decoded, source);
        Assert.True(difference < 4, $"mean absolute difference {difference:F2}");
        Assert.InRange(decoded[3].Avg(), 165, 171);
    }

    [SkippableFact]
    public void Encode_SixteenBitGreyWithAlpha_IsWrittenAsEightBitRgbWithAlpha()
    {
        RequireEncoder();
        RequireTools();
        VipsRuntime.EnsureInitialized();
        using Image source = Image.NewFromBuffer(FixtureBytes("16-bit-grey-alpha.png")).CopyMemory();
        Assert.Equal((2, Enums.BandFormat.Ushort), (source.Bands, source.Format));

        byte[] heic = HeicEncoder.Encode(source, 90, lossless: false);

        using var folder = new TempFolder();
        string file = folder.Combine("grey.heic");
        File.WriteAllBytes(file, heic);
        using Image decoded = DecodeWithHeifConvert(file, folder);
        Assert.Equal(4, decoded.Bands);
        // libvips' own 16-bit grey to 8-bit sRGB conversion is the reference (the image is dark: its maximum is 16).
        using Image expected = source.Colourspace(Enums.Interpretation.Srgb);
        Assert.Equal(Enums.BandFormat.Uchar, expected.Format);
        double difference = MeanAbsDiff(decoded, expected);
        Assert.True(difference < 3, $"mean absolute difference {difference:F2}");
    }

    [Fact]
    public void Encode_LibheifMissing_ThrowsEncoderMissingWithWhatToInstall()
    {
        VipsRuntime.EnsureInitialized();
        using Image image = Image.Black(8, 8, bands: 3).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        string[] absent = { "libheif-koalapic-absent.so.1" };

        Assert.False(HeicEncoder.IsAvailable(absent, out string reason));
        Assert.Contains("libheif-koalapic-absent.so.1", reason);
        var error = Assert.Throws<ImageConversionException>(() => HeicEncoder.Encode(image, 80, lossless: false, absent));

        Assert.Equal("KP2006", error.Code);
        Assert.Equal(HeicEncoder.EncoderMissingCode, error.Code);
        Assert.StartsWith("HEIC output needs libheif with its x265 HEVC encoder, which was not found (no libheif-koalapic-absent.so.1 ", error.Message);
        Assert.Contains("sudo apt-get install libheif1", error.Message);
        Assert.Contains("libheif-plugin-x265", error.Message);
        Assert.Contains("brew install libheif", error.Message);
        Assert.Contains("vcpkg install libheif[hevc]", error.Message);
    }

    [SkippableFact]
    public void Encode_LibraryWithoutHeifFunctions_ThrowsEncoderMissingNamingTheLibrary()
    {
        // A library that loads but is not libheif (zlib is everywhere on Linux) must give the same clear error.
        Skip.IfNot(OperatingSystem.IsLinux(), "zlib's soname is a Linux name");
        VipsRuntime.EnsureInitialized();
        using Image image = Image.Black(8, 8, bands: 3).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        string[] notLibheif = { "libz.so.1" };

        var error = Assert.Throws<ImageConversionException>(() => HeicEncoder.Encode(image, 80, lossless: false, notLibheif));

        Assert.Equal(HeicEncoder.EncoderMissingCode, error.Code);
        Assert.Contains("(libz.so.1)", error.Message);
        Assert.Contains("heif_get_version", error.Message);
    }

    /// <summary>The major brand of the ISO-BMFF 'ftyp' box at the start of the file.</summary>
    private static string MajorBrand(byte[] file)
    {
        Assert.True(file.Length >= 12 && Encoding.ASCII.GetString(file, 4, 4) == "ftyp", "the file does not start with an ftyp box");
        return Encoding.ASCII.GetString(file, 8, 4);
    }

    private static bool ContainsAscii(byte[] bytes, string text) =>
        bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes(text)) >= 0;

    private static Image DecodeWithHeifConvert(string heicFile, TempFolder folder)
    {
        string png = folder.Combine(Path.GetFileNameWithoutExtension(heicFile) + "-decoded.png");
        File.Delete(png);
        Run("heif-convert", heicFile, png);
        return Image.NewFromBuffer(File.ReadAllBytes(png)).CopyMemory();
    }

    private static string Run(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(SystemRequirement.FindOnPath(tool) ?? tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), $"{tool} did not finish");
        Assert.True(process.ExitCode == 0, $"{tool} exited with {process.ExitCode}: {stderr.Result}{stdout}");
        return stdout;
    }
}
