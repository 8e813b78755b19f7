using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// Landscape_1..8.jpg are one photo stored in the 8 EXIF orientations (5..8 are stored 450x600 and rotated by the
/// tag). Every output must be the same upright 600x450 picture, with the orientation applied and the tag gone.
/// </summary>
public class ConverterOrientationTests
{
    private static readonly Dictionary<(int, bool), Image> Outputs = new();
    private static readonly object Gate = new();

    public static TheoryData<int> Orientations => new() { 1, 2, 3, 4, 5, 6, 7, 8 };

    /// <summary>Decoded output of Landscape_n (jpg, or lossless png), converted once per test run.</summary>
    private static Image Output(int orientation, bool lossless = false)
    {
        lock (Gate)
        {
            if (!Outputs.TryGetValue((orientation, lossless), out Image? image))
            {
                ImageFormat format = lossless ? ImageFormat.Png : ImageFormat.Jpeg;
                EncodedImage encoded = Convert(FixtureBytes($"Landscape_{orientation}.jpg"), format, quality: lossless ? 100 : 85);
                image = Rgb(DecodeAs(encoded, format));
                Outputs[(orientation, lossless)] = image;
            }

            return image;
        }
    }

    [Theory]
    [MemberData(nameof(Orientations))]
    public void ExifOrientation_AnyOfEight_OutputIsUpright600x450(int orientation)
    {
        byte[] source = FixtureBytes($"Landscape_{orientation}.jpg");
        using (Image stored = Image.NewFromBuffer(source))
        {
            // The fixture really is stored rotated for 5..8: the engine, not the file, makes it 600x450.
            Assert.Equal(orientation, System.Convert.ToInt32(stored.Get("orientation")));
            Assert.Equal(orientation >= 5 ? (450, 600) : (600, 450), (stored.Width, stored.Height));
        }

        Image output = Output(orientation);

        Assert.Equal((600, 450), (output.Width, output.Height));

        // Same picture as Landscape_1 (correlation near 1), and clearly not one of its mirror images: a missed flip
        // or a 180° turn would correlate better with the mirrored reference than with the upright one.
        Image upright = Output(1);
        double same = Correlation(output, upright);
        Assert.True(same > 0.95, $"correlation with the upright picture is {same:F3}");
        foreach ((string name, Image wrong) in Mirrors(upright))
        {
            double other = Correlation(output, wrong);
            Assert.True(other < same - 0.2, $"correlation with the {name} picture is {other:F3}, upright {same:F3}");
        }
    }

    [Theory]
    [MemberData(nameof(Orientations))]
    public void ExifOrientation_AnyOfEight_PixelsNearlyIdenticalToUpright(int orientation)
    {
        // Lossless output, so only the sources differ: Landscape_2..8 are separately JPEG-compressed rotated copies
        // tagged with Apple's "Generic RGB" profile (gamma 1.8), Landscape_1 is untagged. Measured mean absolute
        // difference to Landscape_1 once the profile is honoured: 4.5..5.2 of 255 (compression noise). Limit 7.
        // Ignoring the profile gives ~14, a wrong rotation or flip ~40 (checked below), so 7 separates them.
        Image output = Output(orientation, lossless: true);
        Image upright = Output(1, lossless: true);

        Assert.Equal((600, 450), (output.Width, output.Height));
        double difference = MeanAbsDiff(output, upright);
        Assert.True(difference < 7, $"Landscape_{orientation} differs from Landscape_1 by {difference:F2}");
        foreach ((string name, Image wrong) in Mirrors(upright))
        {
            double other = MeanAbsDiff(output, wrong);
            Assert.True(other > 20, $"Landscape_{orientation} is only {other:F2} from the {name} picture");
        }
    }

    [Theory]
    [InlineData(ImageFormat.Jpeg)]
    [InlineData(ImageFormat.Png)]
    [InlineData(ImageFormat.Webp)]
    [InlineData(ImageFormat.Avif)]
    [InlineData(ImageFormat.Tiff)]
    [InlineData(ImageFormat.Gif)]
    public void ExifOrientation6_AnyFormat_OutputHasNoExifOrOrientation(ImageFormat format)
    {
        byte[] source = FixtureBytes("Landscape_6.jpg");
        using (Image input = Image.NewFromBuffer(source))
        {
            Assert.Contains("exif-data", input.GetFields());
            Assert.Contains("orientation", input.GetFields());
        }

        EncodedImage encoded = Convert(source, format, width: 120);

        using Image output = DecodeAs(encoded, format);
        Assert.Equal((120, 90), (output.Width, output.Height));
        string[] fields = output.GetFields();
        foreach (string stripped in new[] { "exif-data", "xmp-data", "iptc-data", "icc-profile-data" })
        {
            Assert.DoesNotContain(stripped, fields);
        }

        Assert.DoesNotContain(fields, f => f.StartsWith("exif-", StringComparison.Ordinal));

        // libvips' TIFF loader reports the (default) orientation of every TIFF; elsewhere the field must be absent.
        if (format == ImageFormat.Tiff && fields.Contains("orientation"))
        {
            Assert.Equal(1, System.Convert.ToInt32(output.Get("orientation")));
        }
        else
        {
            Assert.DoesNotContain("orientation", fields);
        }
    }

    private static IEnumerable<(string Name, Image Image)> Mirrors(Image upright)
    {
        yield return ("left-right mirrored", upright.FlipHor());
        yield return ("upside-down mirrored", upright.FlipVer());
        yield return ("180° turned", upright.Rot180());
    }

    /// <summary>Pearson correlation of the luminance of two same-size images, on a 60x45 grid of block means.</summary>
    private static double Correlation(Image a, Image b)
    {
        double[] x = GridMeans(a);
        double[] y = GridMeans(b);
        double mx = x.Average();
        double my = y.Average();
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }

        return sxy / Math.Sqrt(sxx * syy);
    }

    private static double[] GridMeans(Image image)
    {
        using Image grey = Rgb(image).Colourspace(Enums.Interpretation.Bw);
        using Image small = grey.Shrink(10, 10).Cast(Enums.BandFormat.Uchar);
        return small.WriteToMemory<byte>().Select(v => (double)v).ToArray();
    }
}
