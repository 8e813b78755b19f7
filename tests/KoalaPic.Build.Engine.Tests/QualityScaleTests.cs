using System.Collections.Generic;
using System.IO.Hashing;
using System.Linq;
using System.Text;
using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using Xunit.Abstractions;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// One visual Quality across formats: the table's shape, its interpolation, and on real photos that the default
/// Quality makes AVIF and WebP smaller than JPEG at a comparable SSIMULACRA distance.
/// </summary>
public class QualityScaleTests
{
    private static readonly ImageFormat[] MappedFormats = { ImageFormat.Webp, ImageFormat.Avif, ImageFormat.Heic };

    private readonly ITestOutputHelper output;

    public QualityScaleTests(ITestOutputHelper output)
    {
        this.output = output;
        VipsRuntime.EnsureInitialized();
    }

    [Fact]
    public void Rows_OnePointPerJpegQuality_NonDecreasing_WithinTheEncoderScale()
    {
        Assert.Equal(MappedFormats.OrderBy(f => f), QualityScale.Rows.Keys.OrderBy(f => f));
        foreach (var (format, row) in QualityScale.Rows)
        {
            Assert.Equal(QualityScale.JpegQualities.Length, row.Length);
            Assert.All(row, q => Assert.InRange(q, 1, 100));
            Assert.True(row.Zip(row.Skip(1), (a, b) => a <= b).All(ok => ok), $"{format}: {string.Join(",", row)} falls somewhere");
        }
    }

    [Theory]
    [InlineData(ImageFormat.Webp)]
    [InlineData(ImageFormat.Avif)]
    [InlineData(ImageFormat.Heic)]
    public void EncoderQuality_IsTheRowAtItsPoints_LinearBetween_AndFallsTo1At1(ImageFormat format)
    {
        int[] row = QualityScale.Rows[format];
        for (int i = 0; i < row.Length; i++)
        {
            Assert.Equal(row[i], QualityScale.EncoderQuality(format, QualityScale.JpegQualities[i]));
        }

        // Halfway between two points: halfway between their encoder qualities (rounded half up).
        int low = QualityScale.JpegQualities[0], high = QualityScale.JpegQualities[1];
        Assert.Equal((int)System.Math.Round((row[0] + row[1]) / 2.0, System.MidpointRounding.AwayFromZero), QualityScale.EncoderQuality(format, (low + high) / 2 + ((low + high) % 2)));
        Assert.Equal(1, QualityScale.EncoderQuality(format, 1));
        int[] all = Enumerable.Range(1, 100).Select(q => QualityScale.EncoderQuality(format, q)).ToArray();
        Assert.True(all.Zip(all.Skip(1), (a, b) => a <= b).All(ok => ok), $"{format}: not non-decreasing: {string.Join(",", all)}");
    }

    [Theory]
    [InlineData(ImageFormat.Jpeg)]
    [InlineData(ImageFormat.Png)]
    [InlineData(ImageFormat.Tiff)]
    [InlineData(ImageFormat.Pdf)]
    [InlineData(ImageFormat.Svg)]
    [InlineData(ImageFormat.Gif)]
    public void EncoderQuality_FormatsWithoutARow_IsQualityAsItIs(ImageFormat format)
    {
        foreach (int q in new[] { 1, 30, 42, 85, 99, 100 })
        {
            Assert.Equal(q, QualityScale.EncoderQuality(format, q));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public void EncoderQuality_OutsideOneToHundred_Throws(int quality) =>
        Assert.Throws<System.ArgumentOutOfRangeException>(() => QualityScale.EncoderQuality(ImageFormat.Avif, quality));

    /// <summary>
    /// Issue 18's complaint, on three photos at 640 wide: at the default Quality, each photo's AVIF and WebP are smaller
    /// than its JPEG, and they look alike: over the photos, the median of each format's SSIMULACRA distance divided by
    /// JPEG's is within a factor of two of 1, as the table was calibrated on medians (one smooth photo alone can land
    /// further off). Under the old meaning AVIF 85 had about a third of JPEG 85's distance, and was bigger.
    /// </summary>
    [Fact]
    public void DefaultQuality_Photos_AvifAndWebpSmallerThanJpeg_AtAComparableDistance()
    {
        string[] photos = { "2569067123_aca715a2ee_o.jpg", "flowers.jpeg", "Landscape_1.jpg" };
        var ratios = new Dictionary<ImageFormat, List<double>> { [ImageFormat.Webp] = new(), [ImageFormat.Avif] = new() };
        foreach (string name in photos)
        {
            byte[] source = FixtureBytes(name);
            EncodedImage jpeg = Convert(source, ImageFormat.Jpeg, width: 640);
            using Image reference = ReferenceInBox(source, 640, null);
            double jpegDistance = DistanceOf(reference, jpeg, ImageFormat.Jpeg);
            foreach (var (format, list) in ratios)
            {
                EncodedImage encoded = Convert(source, format, width: 640);
                double distance = DistanceOf(reference, encoded, format);
                output.WriteLine($"{name} {format}: {encoded.Bytes.Length} B, distance {distance:F4}; jpg {jpeg.Bytes.Length} B, distance {jpegDistance:F4}");
                Assert.True(encoded.Bytes.Length < jpeg.Bytes.Length, $"{name}: {format} {encoded.Bytes.Length} B is not smaller than jpg {jpeg.Bytes.Length} B");
                list.Add(distance / jpegDistance);
            }
        }

        foreach (var (format, list) in ratios)
        {
            double median = list.OrderBy(r => r).ElementAt(list.Count / 2);
            Assert.InRange(median, 0.5, 2.0);
        }
    }

    /// <summary>Outputs cached under 0.2.0, where Quality went to each encoder as it was, must not be served.</summary>
    [Fact]
    public void ContentKey_DiffersFromTheKeyOfTheOldQualityMeaning()
    {
        byte[] source = FixtureBytes("concert.jpg");
        var options = new ConversionOptions(ImageFormat.Avif, 60, 640, null);
        const string engine = "0.2.0+libvips-8.18.7";
        var old = new XxHash128();
        old.Append(Encoding.UTF8.GetBytes("koalapic-key-v1\n" + engine + "\n" + options.CacheKeyText + "\n"));
        old.Append(source);

        Assert.NotEqual(ContentKey.ToHex(old.GetCurrentHash()), ContentKey.Compute(source, options, engine));
    }

    private static double DistanceOf(Image reference, EncodedImage encoded, ImageFormat format)
    {
        // The reference is already 8-bit sRGB (ReferenceInBox); Rgb may return its argument, hence the copy.
        using Image decoded = DecodeAs(encoded, format);
        using Image rgb = Rgb(decoded).CopyMemory();
        return SmartQuality.Distance(reference, rgb);
    }
}
