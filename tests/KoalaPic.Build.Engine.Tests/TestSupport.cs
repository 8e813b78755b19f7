using System.Reflection;
using KoalaPic.Build.Engine;
using NetVips;
using Xunit;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>Paths to the shared corpus, decoding and pixel comparison helpers.</summary>
internal static class TestSupport
{
    public static string RepositoryRoot { get; } =
        typeof(TestSupport).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value
        ?? throw new InvalidOperationException("RepositoryRoot assembly metadata is missing.");

    /// <summary>The shared corpus beside the checkout; never copied into the repository.</summary>
    public static string Corpus { get; } = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "corpus"));

    public static string Fixture(string name) => Path.Combine(Corpus, "fixtures", name);

    public static string PngSuite(string name) => Path.Combine(Corpus, "pngsuite", name);

    public static byte[] FixtureBytes(string name) => File.ReadAllBytes(Fixture(name));

    public static byte[] PngSuiteBytes(string name) => File.ReadAllBytes(PngSuite(name));

    /// <summary>Converts with the engine; the engine initialises libvips (and its loader allow-list) on first use.</summary>
    public static EncodedImage Convert(byte[] source, ImageFormat format, int? width = null, int? height = null, int quality = ConversionOptions.DefaultQuality, long maxPixels = ImageConverter.DefaultMaxPixels) =>
        ImageConverter.Convert(source, new ConversionOptions(format, quality, width, height), maxPixels);

    public static EncodedImage Convert(byte[] source, ConversionOptions options) => ImageConverter.Convert(source, options);

    /// <summary>A solid 8-bit sRGB image, optionally with an alpha band.</summary>
    public static Image Solid(int width, int height, double r, double g, double b, double? alpha = null)
    {
        double[] pixel = alpha is double a ? new[] { r, g, b, a } : new[] { r, g, b };
        using Image black = Image.Black(width, height, bands: 1);
        return (black.NewFromImage(pixel).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb)).CopyMemory();
    }

    /// <summary>The libvips buffer loader class each output format must be read back with.</summary>
    public static string LoaderOf(ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => "VipsForeignLoadJpegBuffer",
        ImageFormat.Png => "VipsForeignLoadPngBuffer",
        ImageFormat.Webp => "VipsForeignLoadWebpBuffer",
        ImageFormat.Avif => "VipsForeignLoadHeifBuffer",
        ImageFormat.Gif => "VipsForeignLoadNsgifBuffer",
        ImageFormat.Tiff => "VipsForeignLoadTiffBuffer",
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>True when the bytes start with the signature of the format (independently of libvips).</summary>
    public static bool HasMagic(byte[] bytes, ImageFormat format)
    {
        bool StartsWith(int offset, params byte[] magic) =>
            bytes.Length >= offset + magic.Length && bytes.AsSpan(offset, magic.Length).SequenceEqual(magic);

        static byte[] Ascii(string s) => System.Text.Encoding.ASCII.GetBytes(s);

        return format switch
        {
            ImageFormat.Jpeg => StartsWith(0, 0xFF, 0xD8, 0xFF),
            ImageFormat.Png => StartsWith(0, 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A),
            ImageFormat.Webp => StartsWith(0, Ascii("RIFF")) && StartsWith(8, Ascii("WEBP")),
            // ISO-BMFF: a 'ftyp' box whose major brand is 'avif'.
            ImageFormat.Avif => StartsWith(4, Ascii("ftyp")) && StartsWith(8, Ascii("avif")),
            ImageFormat.Gif => StartsWith(0, Ascii("GIF89a")) || StartsWith(0, Ascii("GIF87a")),
            ImageFormat.Tiff => StartsWith(0, 0x49, 0x49, 0x2A, 0x00) || StartsWith(0, 0x4D, 0x4D, 0x00, 0x2A),
            _ => false,
        };
    }

    /// <summary>
    /// Decodes an engine output and checks that it really is <paramref name="format"/>: magic bytes and the libvips
    /// loader, and that the reported size is the decoded size.
    /// </summary>
    public static Image DecodeAs(EncodedImage encoded, ImageFormat format)
    {
        Assert.True(HasMagic(encoded.Bytes, format), $"output does not start with the {format} signature");
        Assert.Equal(LoaderOf(format), Image.FindLoadBuffer(encoded.Bytes));
        Image image = Image.NewFromBuffer(encoded.Bytes, access: Enums.Access.Random, failOn: Enums.FailOn.Error).CopyMemory();
        Assert.Equal(encoded.Width, image.Width);
        Assert.Equal(encoded.Height, image.Height);
        return image;
    }

    /// <summary>8-bit sRGB without alpha (alpha flattened onto white), for comparisons.</summary>
    public static Image Rgb(Image image)
    {
        Image current = image;
        if (current.HasAlpha())
        {
            current = current.Flatten(new double[] { 255, 255, 255 }.Take(current.Bands - 1).ToArray());
        }

        if (current.Interpretation != Enums.Interpretation.Srgb || current.Bands != 3)
        {
            current = current.Colourspace(Enums.Interpretation.Srgb);
        }

        if (current.Format != Enums.BandFormat.Uchar)
        {
            current = current.Cast(Enums.BandFormat.Uchar);
        }

        return current;
    }

    /// <summary>Each of the first three bands of <paramref name="actual"/> within <paramref name="tolerance"/> of <paramref name="expected"/>.</summary>
    public static void AssertColourNear(double[] expected, double[] actual, double tolerance)
    {
        for (int band = 0; band < 3; band++)
        {
            Assert.InRange(actual[band], expected[band] - tolerance, expected[band] + tolerance);
        }
    }

    /// <summary>Mean absolute difference per sample (0..255) between two images of the same size.</summary>
    public static double MeanAbsDiff(Image a, Image b)
    {
        Assert.Equal(a.Width, b.Width);
        Assert.Equal(a.Height, b.Height);
        Assert.Equal(a.Bands, b.Bands);
        return (a.Cast(Enums.BandFormat.Int) - b.Cast(Enums.BandFormat.Int)).Abs().Avg();
    }

    /// <summary>
    /// What a faithful conversion should look like: libvips' own thumbnail of the source fitted inside the same box
    /// (either side may be open), upright (EXIF applied), in sRGB, held in memory (sequential loaders cannot be read
    /// twice and the engine turns the libvips cache off).
    /// </summary>
    public static Image ReferenceInBox(byte[] source, int? width, int? height)
    {
        const int Open = 10_000_000;
        using Image thumbnail = Image.ThumbnailBuffer(source, width ?? Open, height: height ?? Open, size: Enums.Size.Down);
        return Rgb(thumbnail).CopyMemory();
    }
}

/// <summary>A temporary folder deleted at the end of a test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "koalapic-tests-" + Guid.NewGuid().ToString("N").Substring(0, 12));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine(new[] { Path }.Concat(parts).ToArray());

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
