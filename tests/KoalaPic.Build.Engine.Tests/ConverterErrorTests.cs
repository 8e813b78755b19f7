using System.Buffers.Binary;
using System.IO.Hashing;
using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>Unreadable, unsupported and oversized inputs: a KP code, never a crash, a hang or a grey picture.</summary>
public class ConverterErrorTests
{
    [Fact]
    public void EmptyFile_Convert_ThrowsEmptySource()
    {
        var ex = Assert.Throws<ImageConversionException>(() => Convert(Array.Empty<byte>(), ImageFormat.Webp));

        Assert.Equal(DiagnosticCodes.EmptySource, ex.Code);
        Assert.Equal("KP2007", ex.Code);
        Assert.Contains("empty", ex.Message);
    }

    [Theory]
    [InlineData("hello, this is not an image\n")]
    [InlineData("<html><body>404 Not Found</body></html>")]
    [InlineData("{\"json\": true}")]
    public void TextBytes_Convert_ThrowsNotAnImage(string text)
    {
        var ex = Assert.Throws<ImageConversionException>(() => Convert(System.Text.Encoding.UTF8.GetBytes(text), ImageFormat.Jpeg));

        Assert.Equal(DiagnosticCodes.NotAnImage, ex.Code);
        Assert.Equal("KP2008", ex.Code);
        Assert.Contains("not an image in a format KoalaPic reads", ex.Message);
    }

    /// <summary>
    /// libjpeg only warns about junk between segments ("Corrupt JPEG data: 3 extraneous bytes before marker 0xda") and
    /// browsers show such files; decoding fails on errors and truncation, not on warnings like this one.
    /// </summary>
    [Fact]
    public void JpegWithExtraneousBytesBeforeAMarker_Convert_Succeeds()
    {
        byte[] photo = FixtureBytes("concert.jpg");
        int startOfScan = Enumerable.Range(2, photo.Length - 3).First(i => photo[i] == 0xFF && photo[i + 1] == 0xDA);
        byte[] withJunk = photo.Take(startOfScan).Concat(new byte[] { 0x00, 0x00, 0x00 }).Concat(photo.Skip(startOfScan)).ToArray();

        EncodedImage output = Convert(withJunk, ImageFormat.Webp, width: 100);

        Assert.Equal(100, output.Width);
        using var original = DecodeAs(Convert(photo, ImageFormat.Png, width: 100, quality: 100), ImageFormat.Png);
        using var repaired = DecodeAs(Convert(withJunk, ImageFormat.Png, width: 100, quality: 100), ImageFormat.Png);
        Assert.True(MeanAbsDiff(original, repaired) < 1, "the junk bytes must not change the picture");
    }

    [Fact]
    public void LicenseTextFromCorpus_Convert_ThrowsNotAnImage()
    {
        var ex = Assert.Throws<ImageConversionException>(() => Convert(FixtureBytes("LICENSE-sharp-Apache-2.0"), ImageFormat.Png));

        Assert.Equal(DiagnosticCodes.NotAnImage, ex.Code);
    }

    [Theory]
    [InlineData("truncated.jpg")] // the first 10,000 bytes of a 2725x2225 JPEG: decodes as grey unless the loader fails on it
    [InlineData("corrupt-header.jpg")]
    public void BrokenJpegFixture_Convert_ThrowsCannotDecode(string file)
    {
        byte[] source = FixtureBytes(file);

        foreach (int? width in new int?[] { null, 200 })
        {
            var ex = Assert.Throws<ImageConversionException>(() => Convert(source, ImageFormat.Webp, width: width));

            Assert.Equal(DiagnosticCodes.CannotDecode, ex.Code);
            Assert.StartsWith("cannot be decoded", ex.Message);
        }
    }

    /// <summary>
    /// PngSuite's deliberately broken files (x*.png), each with what is wrong with it and the code it gets: a damaged
    /// signature (or line endings mangled by a text-mode transfer, which breaks the signature) makes the file
    /// unrecognisable, KP2008; a recognised PNG with damaged chunks is corrupt, KP2002.
    /// </summary>
    public static TheoryData<string, string> BrokenPngs => new()
    {
        { "xs1n0g01.png", DiagnosticCodes.NotAnImage }, // signature byte 1 MSBit reset to zero
        { "xs2n0g01.png", DiagnosticCodes.NotAnImage }, // signature byte 2 is a 'Q'
        { "xs4n0g01.png", DiagnosticCodes.NotAnImage }, // signature byte 4 lowercase
        { "xs7n0g01.png", DiagnosticCodes.NotAnImage }, // 7th byte a space instead of control-Z
        { "xcrn0g04.png", DiagnosticCodes.NotAnImage }, // added cr bytes
        { "xlfn0g04.png", DiagnosticCodes.NotAnImage }, // added lf bytes
        { "xhdn0g08.png", DiagnosticCodes.CannotDecode }, // incorrect IHDR checksum
        { "xc1n0g08.png", DiagnosticCodes.CannotDecode }, // color type 1
        { "xc9n2c08.png", DiagnosticCodes.CannotDecode }, // color type 9
        { "xd0n2c08.png", DiagnosticCodes.CannotDecode }, // bit-depth 0
        { "xd3n2c08.png", DiagnosticCodes.CannotDecode }, // bit-depth 3
        { "xd9n2c08.png", DiagnosticCodes.CannotDecode }, // bit-depth 99
        { "xdtn0g01.png", DiagnosticCodes.CannotDecode }, // missing IDAT chunk
        { "xcsn0g01.png", DiagnosticCodes.CannotDecode }, // incorrect IDAT checksum
    };

    [Theory]
    [MemberData(nameof(BrokenPngs))]
    public void PngSuiteBrokenFile_Convert_ThrowsItsCode(string file, string code)
    {
        var ex = Assert.Throws<ImageConversionException>(() => Convert(PngSuiteBytes(file), ImageFormat.Png));

        Assert.Equal(code, ex.Code);
    }

    [Fact]
    public void PngSuiteBrokenFiles_AreAllListed()
    {
        // Every x*.png in the corpus has its expected code above: a new broken file cannot go untested.
        var listed = BrokenPngs.Select(row => (string)row[0]).OrderBy(f => f, StringComparer.Ordinal);
        var inCorpus = Directory.GetFiles(Path.Combine(Corpus, "pngsuite"), "x*.png").Select(Path.GetFileName).OrderBy(f => f, StringComparer.Ordinal);

        Assert.Equal(inCorpus, listed);
    }

    [Fact]
    public void PngSuiteValidFiles_Convert_AllSucceedAtTheirSize()
    {
        // The counterpart of the broken files: every valid PngSuite image (all bit depths, interlacing, palettes,
        // transparency, gamma and odd sizes) converts, at its own size.
        string[] files = Directory.GetFiles(Path.Combine(Corpus, "pngsuite"), "*.png")
            .Where(f => !Path.GetFileName(f).StartsWith('x'))
            .ToArray();
        Assert.True(files.Length > 150, $"only {files.Length} PngSuite files found");
        var failures = new List<string>();
        foreach (string file in files)
        {
            byte[] source = File.ReadAllBytes(file);
            try
            {
                EncodedImage encoded = Convert(source, ImageFormat.Png, quality: 100);
                using Image input = Image.NewFromBuffer(source);
                using Image output = Image.NewFromBuffer(encoded.Bytes);
                if ((output.Width, output.Height) != (input.Width, input.Height))
                {
                    failures.Add($"{Path.GetFileName(file)}: {output.Width}x{output.Height}, source {input.Width}x{input.Height}");
                }
            }
            catch (ImageConversionException ex)
            {
                failures.Add($"{Path.GetFileName(file)}: {ex.Code} {ex.Message}");
            }
        }

        Assert.Empty(failures);
    }

    [Theory]
    [InlineData(ImageFormat.Jpeg)]
    [InlineData(ImageFormat.Png)]
    [InlineData(ImageFormat.Webp)]
    [InlineData(ImageFormat.Tiff)]
    [InlineData(ImageFormat.Avif)]
    [InlineData(ImageFormat.Gif)]
    public void TruncatedFile_AnyInputFormat_ThrowsCannotDecode(ImageFormat format)
    {
        // A good image cut to 60%, as an interrupted download or copy leaves it.
        using Image photo = Image.NewFromBuffer(FixtureBytes("Landscape_1.jpg"));
        byte[] whole = format switch
        {
            ImageFormat.Jpeg => photo.JpegsaveBuffer(q: 90),
            ImageFormat.Png => photo.PngsaveBuffer(),
            ImageFormat.Webp => photo.WebpsaveBuffer(q: 90),
            ImageFormat.Tiff => photo.TiffsaveBuffer(compression: Enums.ForeignTiffCompression.Deflate),
            ImageFormat.Avif => photo.HeifsaveBuffer(q: 60, compression: Enums.ForeignHeifCompression.Av1, effort: 0),
            ImageFormat.Gif => photo.GifsaveBuffer(),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
        Convert(whole, ImageFormat.Jpeg, width: 64); // the whole file is fine
        byte[] cut = whole.AsSpan(0, whole.Length * 6 / 10).ToArray();

        var ex = Assert.Throws<ImageConversionException>(() => Convert(cut, ImageFormat.Jpeg, width: 64));

        Assert.Equal(DiagnosticCodes.CannotDecode, ex.Code);
    }

    [Theory]
    [InlineData("P6\n2 2\n255\n............")] // PPM: refused whether or not the libvips build has a PPM loader (NetVips.Native 8.18 has none; any it had would be blocked)
    [InlineData("2 2\n1 2\n3 4\n")] // libvips matrix text format
    public void FormatLibvipsKnowsButKoalaPicBlocks_Convert_ThrowsNotAnImage(string content)
    {
        var ex = Assert.Throws<ImageConversionException>(() => Convert(System.Text.Encoding.ASCII.GetBytes(content), ImageFormat.Png));

        Assert.Equal(DiagnosticCodes.NotAnImage, ex.Code);
    }

    [Fact]
    public void PngHeaderClaiming30000x30000_DefaultLimit_ThrowsTooManyPixelsFromTheHeaderAlone()
    {
        // A 16x16 PNG whose IHDR is patched to claim 30000x30000 (900 million pixels, over the default limit of
        // 268 million). Its pixel data is for 16x16 only, so KP2003 (and not KP2002 from a failed decode) proves
        // the refusal came from the header, before any pixel was decoded or any memory allocated for them.
        byte[] bomb = PatchPngSize(Image.Black(16, 16).PngsaveBuffer(), 30000, 30000);
        using (Image header = Image.NewFromBuffer(bomb))
        {
            Assert.Equal((30000, 30000), (header.Width, header.Height));
        }

        var ex = Assert.Throws<ImageConversionException>(() => Convert(bomb, ImageFormat.Webp, width: 100));

        Assert.Equal(DiagnosticCodes.TooManyPixels, ex.Code);
        Assert.Equal("KP2003", ex.Code);
        Assert.Contains("30000x30000", ex.Message);
        Assert.Contains("900,000,000", ex.Message);
        Assert.Contains("268,402,689", ex.Message);
    }

    [Fact]
    public void RealLargeBlackPng_SmallLimit_ThrowsTooManyPixels()
    {
        // 4000x4000 1-bit black compresses to a few kilobytes: a real, decodable decompression bomb in miniature.
        byte[] bomb = Image.Black(4000, 4000).PngsaveBuffer(bitdepth: 1, compression: 9);
        Assert.True(bomb.Length < 10_000, $"{bomb.Length} bytes");

        var ex = Assert.Throws<ImageConversionException>(() => Convert(bomb, ImageFormat.Png, maxPixels: 1_000_000));

        Assert.Equal(DiagnosticCodes.TooManyPixels, ex.Code);
        Assert.Contains("4000x4000", ex.Message);

        // At the limit exactly, an image is accepted.
        byte[] atLimit = Image.Black(1000, 1000).PngsaveBuffer(bitdepth: 1);
        Assert.Equal(10, Convert(atLimit, ImageFormat.Png, width: 10, maxPixels: 1_000_000).Width);
    }

    [Fact]
    public void HugeSvg_DefaultLimit_ThrowsTooManyPixels()
    {
        byte[] svg = System.Text.Encoding.UTF8.GetBytes(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100000\" height=\"100000\"><rect width=\"100%\" height=\"100%\" fill=\"red\"/></svg>");

        var ex = Assert.Throws<ImageConversionException>(() => Convert(svg, ImageFormat.Png, width: 100));

        Assert.Equal(DiagnosticCodes.TooManyPixels, ex.Code);
    }

    [Fact]
    public void CancelledToken_Convert_ThrowsOperationCanceled()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() =>
            ImageConverter.Convert(FixtureBytes("Landscape_1.jpg"), ConversionOptions.Default, ImageConverter.DefaultMaxPixels, cts.Token));
    }

    /// <summary>Rewrites the width and height in a PNG's IHDR chunk and fixes its CRC, so only the size is a lie.</summary>
    internal static byte[] PatchPngSize(byte[] png, int width, int height)
    {
        byte[] patched = (byte[])png.Clone();

        // Signature (8) + IHDR length (4) + "IHDR" (4), then width and height, big-endian.
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(patched, 12, 4));
        BinaryPrimitives.WriteInt32BigEndian(patched.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(patched.AsSpan(20), height);

        // The CRC covers the chunk type and data (4 + 13 bytes) and follows them.
        uint crc = Crc32.HashToUInt32(patched.AsSpan(12, 17));
        BinaryPrimitives.WriteUInt32BigEndian(patched.AsSpan(29), crc);
        return patched;
    }
}
