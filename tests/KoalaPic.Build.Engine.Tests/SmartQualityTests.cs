using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using Xunit.Abstractions;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// Smart quality: the SSIMULACRA distance (checked against a slow straightforward implementation) and the quality
/// search on real photos and graphics, whose results are decoded and re-measured independently.
/// </summary>
public class SmartQualityTests
{
    // sharp's detailed test photo (2725x2225), a small concert photo, and a smooth out-of-focus one.
    private const string Photo = "2569067123_aca715a2ee_o.jpg";
    private const string Concert = "concert.jpg";
    private const string SmoothPhoto = "flowers.jpeg";
    private const string Gradients = "gradients-rgb8.png";
    private const string AlphaGraphic = "alpha-layer-1-fill.png";

    // Small outputs keep the slow reference (per-pixel loops with a full 11x11 window) to about a second per image.
    private const int Width = 320;

    // The binary search over at most 64 qualities: at most 6 probes plus the top bound when every probe failed.
    private const int MaxEncodes = 7;

    private static readonly SmartQualityLevel[] Levels = { SmartQualityLevel.Low, SmartQualityLevel.Medium, SmartQualityLevel.High };

    private readonly ITestOutputHelper output;

    public SmartQualityTests(ITestOutputHelper output)
    {
        this.output = output;
        VipsRuntime.EnsureInitialized();
    }

    [Theory]
    [InlineData(ImageFormat.Jpeg, true)]
    [InlineData(ImageFormat.Webp, true)]
    [InlineData(ImageFormat.Avif, true)]
    [InlineData(ImageFormat.Png, false)]
    [InlineData(ImageFormat.Gif, false)]
    [InlineData(ImageFormat.Tiff, false)]
    [InlineData(ImageFormat.Heic, false)]
    public void Supports_OnlyLossyFormatsLibvipsReadsBack(ImageFormat format, bool expected) =>
        Assert.Equal(expected, SmartQuality.Supports(format));

    [Theory]
    [InlineData(Photo, false)]
    [InlineData(AlphaGraphic, true)]
    [InlineData(Gradients, false)]
    public void Distance_OfAnImageToItself_IsExactlyZero(string name, bool keepAlpha)
    {
        using Image reference = Resized(name, Width, keepAlpha);
        using Image copy = reference.Copy().CopyMemory();
        using Image grey = reference.Colourspace(Enums.Interpretation.Bw).CopyMemory();

        Assert.Equal(keepAlpha ? 4 : 3, reference.Bands);
        // Zero up to the rounding of the final double division (a few 1e-16).
        Assert.Equal(0.0, SmartQuality.Distance(reference, copy), 12);
        Assert.Equal(0.0, SmartQuality.Distance(grey, grey.Copy()), 12);
    }

    [Fact]
    public void Distance_OfImagesOfDifferentSizes_IsRefused()
    {
        using Image reference = Resized(Photo, Width, keepAlpha: false);
        using Image smaller = reference.Crop(0, 0, Width - 1, reference.Height);

        Assert.Throws<ArgumentException>(() => SmartQuality.Distance(reference, smaller));
    }

    /// <summary>The libvips implementation agrees with the slow one on real encodes: colour, grey and transparent.</summary>
    [Theory]
    [InlineData(Photo, ImageFormat.Jpeg, 40, false)]
    [InlineData(Photo, ImageFormat.Webp, 60, false)]
    [InlineData(SmoothPhoto, ImageFormat.Jpeg, 30, false)]
    [InlineData(Concert, ImageFormat.Jpeg, 75, true)]
    [InlineData(AlphaGraphic, ImageFormat.Webp, 30, false)]
    public void Distance_MatchesTheSlowStraightforwardImplementation(string name, ImageFormat format, int quality, bool grey)
    {
        using Image resized = Resized(name, 200, keepAlpha: format != ImageFormat.Jpeg);
        using Image reference = grey ? resized.Colourspace(Enums.Interpretation.Bw).CopyMemory() : resized.Copy();
        using Image decoded = Decode(Encode(reference, format, quality));

        double fast = SmartQuality.Distance(reference, decoded);
        double slow = SlowSsimulacra.Distance(reference, decoded);

        output.WriteLine($"{name} {format} q{quality} {reference.Bands} bands: libvips {fast:F6}, slow {slow:F6}");
        Assert.InRange(fast, 0.005, 0.2);
        Assert.InRange(fast, slow * 0.98, slow * 1.02);
    }

    [Fact]
    public void Distance_GrowsWithBlurNoiseAndCompression()
    {
        using Image reference = Resized(Photo, Width, keepAlpha: false);
        double[] blurred = new[] { 0.6, 1.2, 2.5 }.Select(sigma => Distance(reference, reference.Gaussblur(sigma).Cast(Enums.BandFormat.Uchar))).ToArray();
        using Image noise = Image.Gaussnoise(reference.Width, reference.Height, sigma: 1, mean: 0, seed: 7);
        double[] noisy = new[] { 3.0, 10.0, 30.0 }.Select(amount => Distance(reference, (reference + (noise * amount)).Cast(Enums.BandFormat.Uchar))).ToArray();
        double[] compressed = new[] { 95, 75, 50, 25 }.Select(q => Distance(reference, Decode(Encode(reference, ImageFormat.Jpeg, q)))).ToArray();

        output.WriteLine($"blur {string.Join(" ", blurred)}; noise {string.Join(" ", noisy)}; jpeg 95/75/50/25 {string.Join(" ", compressed)}");
        AssertIncreasing(blurred);
        AssertIncreasing(noisy);
        AssertIncreasing(compressed);
        Assert.True(blurred[0] > 0 && noisy[0] > 0 && compressed[0] > 0);
    }

    /// <summary>
    /// Transparent images are compared on black and on white: an error in alpha alone counts, colour under fully
    /// transparent pixels (which no one sees) does not.
    /// </summary>
    [Fact]
    public void Distance_WithAlpha_CountsAlphaErrorsAndIgnoresHiddenColour()
    {
        using Image reference = Resized(AlphaGraphic, Width, keepAlpha: true);
        using Image colour = reference.ExtractBand(0, 3);
        using Image alpha = reference.ExtractBand(3);

        using Image alphaHalved = colour.Bandjoin((alpha * 0.5).Cast(Enums.BandFormat.Uchar)).Copy(interpretation: Enums.Interpretation.Srgb);
        using Image transparent = alpha.Equal(0.0).Ifthenelse(new double[] { 0 }, new double[] { 255 });
        Assert.True(transparent.Avg() > 10, "the graphic should have fully transparent areas");
        using Image hiddenColourChanged = alpha.Equal(0.0).Ifthenelse(colour.Invert(), colour).Bandjoin(alpha).Copy(interpretation: Enums.Interpretation.Srgb).CopyMemory();
        Assert.True(MeanAbsDiff(reference, hiddenColourChanged) > 1, "the change under transparent pixels should be real");

        Assert.True(SmartQuality.Distance(reference, alphaHalved) > 0.05);
        Assert.Equal(0.0, SmartQuality.Distance(reference, hiddenColourChanged), 6);
    }

    public static TheoryData<string, ImageFormat> Photos => new()
    {
        { Photo, ImageFormat.Jpeg },
        { Concert, ImageFormat.Jpeg },
        { SmoothPhoto, ImageFormat.Jpeg },
        { Photo, ImageFormat.Webp },
        { Concert, ImageFormat.Webp },
        { Photo, ImageFormat.Avif },
    };

    /// <summary>
    /// On real photos each level's output meets its target when decoded and re-measured with the slow implementation,
    /// within the search's encode budget, and the levels order by size: low &lt; medium &lt; high.
    /// </summary>
    [Theory]
    [MemberData(nameof(Photos))]
    public void Search_OnAPhoto_EachLevelMeetsItsTarget_AndLowIsSmallerThanMediumIsSmallerThanHigh(string name, ImageFormat format)
    {
        using Image reference = Resized(name, Width, keepAlpha: false);
        var sizes = new List<int>();
        foreach (SmartQualityLevel level in Levels)
        {
            int calls = 0;
            SmartQualityResult result = SmartQuality.Search(reference, format, level, q => { calls++; return Encode(reference, format, q); }, Decode);

            Assert.True(HasMagic(result.Bytes, format), $"{level}: not a {format}");
            using Image decoded = Image.NewFromBuffer(result.Bytes, access: Enums.Access.Random, failOn: Enums.FailOn.Error).CopyMemory();
            double remeasured = SlowSsimulacra.Distance(reference, decoded);
            output.WriteLine($"{name} {format} {level}: q{result.Quality}, distance {result.Score:F4} (slow {remeasured:F4}) of {result.Target}, {result.Bytes.Length} bytes, {result.Encodes} encodes");

            Assert.True(result.MetTarget, $"{level}: distance {result.Score} over {result.Target}");
            // The slow implementation differs from libvips' by well under 2% (see above).
            Assert.True(remeasured <= result.Target * 1.02, $"{level}: re-measured distance {remeasured} over {result.Target}");
            (int lowest, int highest) = SmartQuality.Bounds(format, level);
            Assert.InRange(result.Quality, lowest, highest);
            Assert.Equal(calls, result.Encodes);
            Assert.InRange(result.Encodes, 1, MaxEncodes);
            sizes.Add(result.Bytes.Length);
        }

        Assert.True(sizes[0] < sizes[1] && sizes[1] < sizes[2], $"bytes low/medium/high: {string.Join(" / ", sizes)}");
    }

    /// <summary>A flat graphic meets every target easily: it gets the lowest quality each level allows.</summary>
    [Fact]
    public void Search_OnAFlatGraphic_ChoosesTheLowestQualityTheLevelAllows()
    {
        using Image reference = Resized(Gradients, Width, keepAlpha: false);
        using Image photo = Resized(Photo, Width, keepAlpha: false);
        foreach (SmartQualityLevel level in Levels)
        {
            SmartQualityResult graphic = SmartQuality.Search(reference, ImageFormat.Jpeg, level, q => Encode(reference, ImageFormat.Jpeg, q), Decode);
            SmartQualityResult detailed = SmartQuality.Search(photo, ImageFormat.Jpeg, level, q => Encode(photo, ImageFormat.Jpeg, q), Decode);

            output.WriteLine($"{level}: gradients q{graphic.Quality} ({graphic.Score:F4}), photo q{detailed.Quality} ({detailed.Score:F4})");
            Assert.Equal(SmartQuality.Bounds(ImageFormat.Jpeg, level).Lowest, graphic.Quality);
            Assert.True(detailed.Quality > graphic.Quality + 10, $"{level}: photo q{detailed.Quality}, gradients q{graphic.Quality}");
        }
    }

    /// <summary>
    /// On a made-up encoder that posterises more the lower the quality (coarser levels: more loss, fewer bytes, as a
    /// real encoder), written losslessly, the binary search finds exactly the lowest passing quality that trying every
    /// quality finds, and never encodes a quality twice.
    /// </summary>
    [Theory]
    [InlineData(SmartQualityLevel.Low)]
    [InlineData(SmartQualityLevel.Medium)]
    [InlineData(SmartQualityLevel.High)]
    public void Search_FindsTheLowestPassingQuality_AsTryingEveryQualityWould(SmartQualityLevel level)
    {
        using Image reference = Resized(Photo, 96, keepAlpha: false);
        byte[] Encoder(int q)
        {
            double step = 1 + Math.Pow((100 - q) / 9.0, 2);
            using Image posterised = ((reference / step).Round(Enums.OperationRound.Rint) * step).Cast(Enums.BandFormat.Uchar);
            return posterised.PngsaveBuffer(compression: 6);
        }

        var encoded = new List<int>();
        SmartQualityResult result = SmartQuality.Search(reference, ImageFormat.Jpeg, level, q => { encoded.Add(q); return Encoder(q); }, Decode);

        (int lowest, int highest) = SmartQuality.Bounds(ImageFormat.Jpeg, level);
        double target = SmartQuality.Target(ImageFormat.Jpeg, level);
        int[] qualities = Enumerable.Range(lowest, highest - lowest + 1).ToArray();
        double[] distances = qualities.Select(q => Distance(reference, Decode(Encoder(q)))).ToArray();
        int[] passing = qualities.Where((q, i) => distances[i] <= target).ToArray();
        output.WriteLine($"{level}: search q{result.Quality} after {string.Join(",", encoded)}; passing from q{passing.FirstOrDefault()}");

        Assert.True(passing.Length > 0 && passing[0] > lowest && passing[^1] == highest, "the made-up curve should cross the target inside the bounds");
        Assert.True(qualities.Skip(passing[0] - lowest).All(q => distances[q - lowest] <= target), "the made-up curve should stay below the target once it passes");
        Assert.Equal(passing[0], result.Quality);
        Assert.Equal(encoded.Count, encoded.Distinct().Count());
        Assert.Equal(encoded.Count, result.Encodes);
        Assert.True(result.Encodes <= MaxEncodes);
    }

    /// <summary>When even the top quality misses the target, the top quality's encode comes back, flagged.</summary>
    [Fact]
    public void Search_WhenNoQualityMeetsTheTarget_ReturnsTheHighestQualityFlaggedAsMissed()
    {
        using Image reference = Resized(Photo, 96, keepAlpha: false);
        using Image wrong = reference.FlipHor().CopyMemory();
        var encoded = new List<int>();

        SmartQualityResult result = SmartQuality.Search(reference, ImageFormat.Webp, SmartQualityLevel.High, q => { encoded.Add(q); return Encode(wrong, ImageFormat.Webp, q); }, Decode);

        Assert.False(result.MetTarget);
        Assert.Equal(SmartQuality.Bounds(ImageFormat.Webp, SmartQualityLevel.High).Highest, result.Quality);
        Assert.True(result.Score > result.Target);
        Assert.Equal(encoded.Max(), result.Quality);
        Assert.InRange(result.Encodes, 1, MaxEncodes);
    }

    [Fact]
    public void Search_RefusesFormatsWithoutSmartQuality()
    {
        using Image reference = Resized(Photo, 64, keepAlpha: false);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            SmartQuality.Search(reference, ImageFormat.Png, SmartQualityLevel.Medium, q => reference.PngsaveBuffer(), Decode));
    }

    /// <summary>The resized 8-bit sRGB image the converter would encode, held in memory.</summary>
    private static Image Resized(string name, int width, bool keepAlpha)
    {
        using Image thumbnail = Image.ThumbnailBuffer(FixtureBytes(name), width, height: 10_000_000, size: Enums.Size.Down);
        using Image srgb = thumbnail.Colourspace(Enums.Interpretation.Srgb);
        using Image uchar = srgb.Cast(Enums.BandFormat.Uchar);
        return keepAlpha || !uchar.HasAlpha()
            ? uchar.CopyMemory()
            : uchar.Flatten(new double[] { 255, 255, 255 }).CopyMemory();
    }

    /// <summary>The engine's encoder settings (ImageConverter.Encode).</summary>
    private static byte[] Encode(Image image, ImageFormat format, int quality) => format switch
    {
        ImageFormat.Jpeg => image.JpegsaveBuffer(q: quality, optimizeCoding: true, keep: Enums.ForeignKeep.None),
        ImageFormat.Webp => image.WebpsaveBuffer(q: quality, effort: 4, keep: Enums.ForeignKeep.None),
        ImageFormat.Avif => image.HeifsaveBuffer(q: quality, compression: Enums.ForeignHeifCompression.Av1, effort: 4, keep: Enums.ForeignKeep.None),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    private static Image Decode(byte[] bytes) => Image.NewFromBuffer(bytes, access: Enums.Access.Random, failOn: Enums.FailOn.Error);

    private static double Distance(Image reference, Image candidate)
    {
        using (candidate)
        {
            return SmartQuality.Distance(reference, candidate);
        }
    }

    private static void AssertIncreasing(double[] values)
    {
        for (int i = 1; i < values.Length; i++)
        {
            Assert.True(values[i] > values[i - 1], $"not increasing: {string.Join(", ", values)}");
        }
    }
}
