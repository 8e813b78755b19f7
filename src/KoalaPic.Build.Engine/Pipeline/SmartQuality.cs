using System;
using System.Collections.Generic;
using System.Linq;
using NetVips;

namespace KoalaPic.Build.Engine;

/// <summary>The encoding smart quality chose for one image.</summary>
/// <param name="Bytes">The encoded image.</param>
/// <param name="Quality">The encoder quality that produced <paramref name="Bytes"/>.</param>
/// <param name="Score">Its SSIMULACRA distance from the reference (0 = identical; lower is better).</param>
/// <param name="Encodes">How many encodes (each followed by a decode and a measurement) the search ran.</param>
internal sealed record SmartQualityResult(byte[] Bytes, int Quality, double Score, int Encodes)
{
    /// <summary>The largest distance the level allows.</summary>
    public double Target { get; init; }

    /// <summary>False when even the highest quality searched missed the target; the result is then that encode.</summary>
    public bool MetTarget => Score <= Target;
}

/// <summary>
/// Smart quality: per image, the smallest encode (in practice, the lowest encoder quality) whose decoded output is
/// within the level's perceptual distance of the resized source. The distance is SSIMULACRA (Cloudinary's compression-artifact metric, 2017,
/// Apache-2.0; see <see cref="Distance"/>), computed with libvips operations.
/// </summary>
internal static class SmartQuality
{
    /// <summary>Whether smart quality applies to the format (<see cref="FormatDescriptor.SmartQualityApplies"/> says why).</summary>
    internal static bool Supports(ImageFormat format) => ImageFormats.Of(format).SmartQualityApplies;

    /// <summary>The largest SSIMULACRA distance a level accepts for a format.</summary>
    /// <remarks>
    /// Chosen on the corpus photos at 1200 wide (bench/smart-quality): high 0.012 is about SSIMULACRA's own "not
    /// perceptible" line (0.01) and lands jpeg at q85-95 on photos, medium 0.025 at q72-85, low 0.040 at q53-70.
    /// Lossy WebP is always 4:2:0, and SSIMULACRA charges that chroma loss at any quality (0.012-0.017 at q90 on
    /// detailed colour photos), so WebP's high is 0.015: at 0.012 most detailed photos would end at the top bound.
    /// Targets and bounds decide output bytes but are not in the cache key: change them only with a new ContentKey schema.
    /// </remarks>
    internal static double Target(ImageFormat format, SmartQualityLevel level) => level switch
    {
        SmartQualityLevel.High => format == ImageFormat.Webp ? 0.015 : 0.012,
        SmartQualityLevel.Medium => 0.025,
        SmartQualityLevel.Low => 0.040,
        _ => throw new ArgumentOutOfRangeException(nameof(level), level, "no perceptual target for this level"),
    };

    /// <summary>The qualities searched, lowest and highest, for a format and level.</summary>
    /// <remarks>
    /// The floors guard against SSIMULACRA's leniency with blocking and banding in smooth gradients (flowers.jpeg at
    /// jpeg q30 scores 0.023, "medium", though its 8x8 blocks show): high never goes below jpeg/webp q70, medium
    /// below 50, low below 35. AVIF reaches the same look at lower qualities (libvips' and sharp's default is 50), so
    /// its ranges sit lower. The ceilings stop where bytes grow fast for little gain. Each range holds at most 64
    /// qualities, so the binary search needs at most 7 encodes.
    /// </remarks>
    internal static (int Lowest, int Highest) Bounds(ImageFormat format, SmartQualityLevel level) => (format, level) switch
    {
        (ImageFormat.Avif, SmartQualityLevel.High) => (50, 98),
        (ImageFormat.Avif, SmartQualityLevel.Medium) => (35, 90),
        (ImageFormat.Avif, SmartQualityLevel.Low) => (25, 85),
        (_, SmartQualityLevel.High) => (70, 98),
        (_, SmartQualityLevel.Medium) => (50, 92),
        (_, SmartQualityLevel.Low) => (35, 90),
        _ => throw new ArgumentOutOfRangeException(nameof(level), level, "no quality bounds for this level"),
    };

    /// <summary>
    /// Binary search for the lowest quality within <see cref="Bounds"/> whose decoded output is within the level's
    /// <see cref="Target"/> of <paramref name="reference"/>. Distance falls with quality almost everywhere, which the
    /// search assumes; where it does not, the smallest passing encode actually seen is returned. When even the highest
    /// quality misses the target, that encode is returned with <see cref="SmartQualityResult.MetTarget"/> false.
    /// </summary>
    /// <param name="reference">The resized 8-bit sRGB (or grey) image, with or without alpha, as it would be encoded.
    /// Read once per encode by the caller's encoder and once here: pass an image held in memory.</param>
    /// <param name="format">The output format (see <see cref="Supports"/>); it picks the target and the bounds.</param>
    /// <param name="encodeAtQuality">Encodes the reference at a quality.</param>
    /// <param name="decode">Decodes the bytes back (the caller's loader); the image is disposed here.</param>
    internal static SmartQualityResult Search(Image reference, ImageFormat format, SmartQualityLevel level, Func<int, byte[]> encodeAtQuality, Func<byte[], Image> decode)
    {
        if (!Supports(format))
        {
            throw new ArgumentOutOfRangeException(nameof(format), format, "smart quality supports jpg, webp and avif");
        }

        return Search(reference, Target(format, level), Bounds(format, level), encodeAtQuality, decode);
    }

    /// <summary>
    /// The same search for any encoder, target and quality range: the lowest quality from <paramref name="bounds"/>
    /// whose decoded output is within <paramref name="target"/> of <paramref name="reference"/>. The levels' search
    /// above uses it; bench/jxl-compare calls it for formats without a level (jxl) at a chosen target.
    /// </summary>
    internal static SmartQualityResult Search(Image reference, double target, (int Lowest, int Highest) bounds, Func<int, byte[]> encodeAtQuality, Func<byte[], Image> decode)
    {
        (int lowest, int highest) = bounds;
        using var prepared = new PreparedReference(reference);
        var seen = new Dictionary<int, (byte[] Bytes, double Distance)>();

        (byte[] Bytes, double Distance) Measure(int quality)
        {
            if (!seen.TryGetValue(quality, out var result))
            {
                byte[] bytes = encodeAtQuality(quality);
                using Image decoded = decode(bytes);
                result = (bytes, prepared.DistanceTo(decoded));
                seen.Add(quality, result);
            }

            return result;
        }

        // Invariant: every quality below `low` failed; `high` passed, or is the top bound and not yet measured.
        int low = lowest, high = highest;
        while (low < high)
        {
            int middle = low + ((high - low) / 2);
            if (Measure(middle).Distance <= target)
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        Measure(high);
        var passing = seen.Where(s => s.Value.Distance <= target).ToList();
        var chosen = passing.Count > 0
            ? passing.OrderBy(s => s.Value.Bytes.Length).ThenBy(s => s.Key).First()
            : seen.Single(s => s.Key == highest);
        return new SmartQualityResult(chosen.Value.Bytes, chosen.Key, chosen.Value.Distance, seen.Count) { Target = target };
    }

    /// <summary>
    /// SSIMULACRA distance of <paramref name="candidate"/> from <paramref name="reference"/>: 0 for identical images,
    /// about 0.01 where differences start to be perceptible, above 0.1 annoying. Both are 8-bit grey, grey+alpha, sRGB
    /// or sRGBA of the same size; with transparency, both are composited onto black and onto white (the page
    /// backgrounds the image may be shown on) and the larger distance counts, so errors in colour and in alpha count.
    /// </summary>
    internal static double Distance(Image reference, Image candidate)
    {
        using var prepared = new PreparedReference(reference);
        return prepared.DistanceTo(candidate);
    }

    /// <summary>A reference made ready for repeated comparisons: its Lab pyramid per background, computed once.</summary>
    internal sealed class PreparedReference : IDisposable
    {
        private readonly Image reference;
        private readonly bool colour;
        private readonly List<Pyramid> pyramids = new();

        public PreparedReference(Image reference)
        {
            this.reference = reference;
            colour = ColourBands(reference) >= 3;
            Alpha = reference.HasAlpha();
            foreach (double background in Backgrounds(Alpha))
            {
                pyramids.Add(Ssimulacra.BuildPyramid(Ssimulacra.ToLab(reference, background, colour), withLocalStatistics: true));
            }
        }

        public bool Alpha { get; }

        public double DistanceTo(Image candidate)
        {
            if (reference.Width != candidate.Width || reference.Height != candidate.Height)
            {
                throw new ArgumentException($"candidate is {candidate.Width}x{candidate.Height}, reference {reference.Width}x{reference.Height}", nameof(candidate));
            }

            double distance = 0;
            double[] backgrounds = Backgrounds(Alpha);
            for (int i = 0; i < backgrounds.Length; i++)
            {
                using Pyramid candidatePyramid = Ssimulacra.BuildPyramid(Ssimulacra.ToLab(candidate, backgrounds[i], colour), withLocalStatistics: false);
                distance = Math.Max(distance, Ssimulacra.Compare(pyramids[i], candidatePyramid));
            }

            return distance;
        }

        public void Dispose()
        {
            foreach (Pyramid pyramid in pyramids)
            {
                pyramid.Dispose();
            }
        }

        // An opaque image needs no background; NaN stands for "none".
        private static double[] Backgrounds(bool alpha) => alpha ? new[] { 0.0, 255.0 } : new[] { double.NaN };
    }

    private static int ColourBands(Image image) => image.HasAlpha() ? image.Bands - 1 : image.Bands;

    /// <summary>
    /// Lab planes at full size and at each halving, finest first; for a reference also their local means and local
    /// means of squares (the window-blurred x and x²), which every comparison with it reuses.
    /// </summary>
    internal sealed class Pyramid : IDisposable
    {
        public Pyramid(List<Image> levels, List<Image>? localStatistics)
        {
            Levels = levels;
            LocalStatistics = localStatistics;
        }

        public List<Image> Levels { get; }

        public List<Image>? LocalStatistics { get; }

        public void Dispose()
        {
            foreach (Image level in Levels.Concat(LocalStatistics ?? Enumerable.Empty<Image>()))
            {
                level.Dispose();
            }
        }
    }

    /// <summary>
    /// SSIMULACRA v1 (Jon Sneyers, Cloudinary, 2017; github.com/cloudinary/ssimulacra, Apache-2.0), with its constants:
    /// SSIM in a 0..1-scaled L*a*b* at six scales (halving each time), mixing the mean and the worst 4x4 block at each
    /// scale, plus full-size penalties for edges the original does not have (blocking, banding, ringing) and for the
    /// worst rows and columns (grid-like block borders). Differences from the original, none of which matter for
    /// ranking encodes: borders are mirrored symmetrically (libvips) rather than reflected about the edge pixel
    /// (OpenCV), an odd width or height loses its last column or row when halved, scales smaller than 8 pixels are
    /// skipped, and transparency is handled by the caller (two backgrounds) rather than as a fourth channel.
    /// </summary>
    internal static class Ssimulacra
    {
        internal const double C1 = 0.0001;
        internal const double C2 = 0.0004;
        internal const int Scales = 6;
        internal const double WindowSigma = 1.5;
        internal const int WindowRadius = 5;

        // Rows: L, a, b. Columns: scales 1:1 .. 1:32.
        internal static readonly double[,] ScaleWeights =
        {
            { 0.0448, 0.2856, 0.3001, 0.2363, 0.1333, 0.1 },
            { 0.015, 0.0448, 0.2856, 0.3001, 0.3363, 0.25 },
            { 0.015, 0.0448, 0.2856, 0.3001, 0.3363, 0.25 },
        };

        internal const double ChromaWeight = 0.2;

        // Weights of the worst 4x4 block at each scale (rows: L, a, b).
        internal static readonly double[,] WorstBlockScaleWeights =
        {
            { 0.2, 0.3, 0.25, 0.2, 0.12, 0.05 },
            { 0.01, 0.05, 0.2, 0.3, 0.35, 0.35 },
            { 0.01, 0.05, 0.2, 0.3, 0.35, 0.35 },
        };

        internal static readonly double[] WorstBlockWeight = { 0.1, 0.005, 0.005 };
        internal static readonly double[] ExtraEdgesWeight = { 1.5, 0.1, 0.1 };
        internal static readonly double[] WorstGridWeight = { 1.0, 0.1, 0.1 };

        /// <summary>The normalised 1-D Gaussian window (11 taps, sigma 1.5); the 2-D window is its outer product.</summary>
        internal static double[] Window()
        {
            var taps = new double[(2 * WindowRadius) + 1];
            double sum = 0;
            for (int i = -WindowRadius; i <= WindowRadius; i++)
            {
                taps[i + WindowRadius] = Math.Exp(-(i * i) / (2 * WindowSigma * WindowSigma));
                sum += taps[i + WindowRadius];
            }

            return taps.Select(t => t / sum).ToArray();
        }

        /// <summary>
        /// L*a*b* (D65) scaled as SSIMULACRA scales it: L/100, 0.3918 + a/220, 0.4905 + b/220; only L for grey.
        /// A transparent image is first composited onto <paramref name="background"/> (0..255 grey level).
        /// </summary>
        internal static Image ToLab(Image image, double background, bool colour)
        {
            using var scope = new Scope();
            Image current = image;
            if (current.HasAlpha())
            {
                double level = double.IsNaN(background) ? 255 : background;
                current = scope.Own(current.Flatten(Enumerable.Repeat(level, current.Bands - 1).ToArray()));
            }

            current = scope.Own(current.Copy(interpretation: current.Bands >= 3 ? Enums.Interpretation.Srgb : Enums.Interpretation.Bw));
            Image lab = scope.Own(current.Colourspace(Enums.Interpretation.Lab));
            if (!colour)
            {
                return scope.Own(lab.ExtractBand(0)).Linear(new[] { 0.01 }, new[] { 0.0 });
            }

            return lab.Linear(new[] { 0.01, 1 / 220.0, 1 / 220.0 }, new[] { 0.0, 0.39181818181818181818, 0.49045454545454545454 });
        }

        /// <summary>
        /// The Lab image and its halvings (2x2 box average, as OpenCV's area resize), held in memory: each is read by
        /// several passes. Takes ownership of <paramref name="lab"/>.
        /// </summary>
        internal static Pyramid BuildPyramid(Image lab, bool withLocalStatistics)
        {
            var levels = new List<Image>();
            using (lab)
            {
                levels.Add(lab.CopyMemory());
            }

            while (levels.Count < Scales)
            {
                Image previous = levels[levels.Count - 1];
                int width = previous.Width / 2, height = previous.Height / 2;
                if (width < 8 || height < 8)
                {
                    break;
                }

                using Image even = previous.Crop(0, 0, width * 2, height * 2);
                using Image half = even.Shrink(2, 2);
                levels.Add(half.CopyMemory());
            }

            List<Image>? localStatistics = null;
            if (withLocalStatistics)
            {
                localStatistics = new List<Image>();
                foreach (Image level in levels)
                {
                    using var scope = new Scope();
                    localStatistics.Add(Blur(scope, scope.Own(level.Bandjoin(scope.Own(level * level)))).CopyMemory());
                }
            }

            return new Pyramid(levels, localStatistics);
        }

        /// <summary>The SSIMULACRA distance between two pyramids of the same image size.</summary>
        internal static double Compare(Pyramid reference, Pyramid candidate)
        {
            double score = 0, maximum = 0;
            int scales = Math.Min(reference.Levels.Count, candidate.Levels.Count);
            for (int scale = 0; scale < scales; scale++)
            {
                using var scope = new Scope();
                Image x = reference.Levels[scale];
                Image y = candidate.Levels[scale];
                int channels = x.Bands;
                Image referenceStatistics = reference.LocalStatistics?[scale] ?? throw new ArgumentException("the reference pyramid has no local statistics", nameof(reference));
                (Image ssimMap, Image muX, Image muY) = SsimMap(scope, x, referenceStatistics, y);

                Image pooled;
                if (scale == 0)
                {
                    // Asymmetric: edges the candidate has where the reference is smooth (blocking, banding, ringing,
                    // mosquito noise) count; edges smoothed away do not. max(d, 0) = (d + |d|) / 2.
                    Image edgeGain = scope.Own(scope.Own(scope.Own(y - muY).Abs()) - scope.Own(scope.Own(x - muX).Abs()));
                    Image artifactEdges = scope.Own(scope.Own(edgeGain + scope.Own(edgeGain.Abs())) * 0.5);
                    Image noArtifactEdges = scope.Own(1.0 - artifactEdges);
                    pooled = scope.Own(scope.Own(ssimMap.Bandjoin(noArtifactEdges)).CopyMemory());
                }
                else
                {
                    pooled = scope.Own(ssimMap.CopyMemory());
                }

                double[] means = BandMeans(scope, pooled);
                double[] worstBlocks = WorstBlocks(scope, pooled, channels);
                for (int c = 0; c < channels; c++)
                {
                    double weight = (c > 0 ? ChromaWeight : 1.0) * ScaleWeights[c, scale];
                    score += weight * means[c];
                    maximum += weight;

                    double blockWeight = WorstBlockWeight[c] * WorstBlockScaleWeights[c, scale];
                    score += blockWeight * worstBlocks[c];
                    maximum += blockWeight;
                }

                if (scale == 0)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        score += ExtraEdgesWeight[c] * means[channels + c];
                        maximum += ExtraEdgesWeight[c];
                    }

                    // Grid-like artifacts: the 2nd-percentile worst row and column, of the SSIM map and of the
                    // artifact-edge map. With block-based codecs these are rows and columns along block borders.
                    (double[][] rowMeans, double[][] columnMeans) = RowAndColumnMeans(scope, pooled);
                    for (int map = 0; map < 2; map++)
                    {
                        for (int c = 0; c < channels; c++)
                        {
                            int band = (map * channels) + c;
                            score += WorstGridWeight[c] * SecondPercentile(rowMeans[band]);
                            score += WorstGridWeight[c] * SecondPercentile(columnMeans[band]);
                            maximum += 2 * WorstGridWeight[c];
                        }
                    }
                }
            }

            return Math.Max(0, (maximum / score) - 1);
        }

        /// <summary>The SSIM map of each channel, and the local means.</summary>
        /// <param name="referenceStatistics">The reference's local means, then local means of squares.</param>
        private static (Image Map, Image MuX, Image MuY) SsimMap(Scope scope, Image x, Image referenceStatistics, Image y)
        {
            int channels = x.Bands;

            // One separable convolution blurs the candidate's three statistics of all channels.
            Image blurred = Blur(scope, scope.Own(y.Bandjoin(scope.Own(y * y), scope.Own(x * y))));
            Image muX = scope.Own(referenceStatistics.ExtractBand(0, channels));
            Image meanXx = scope.Own(referenceStatistics.ExtractBand(channels, channels));
            Image muY = scope.Own(blurred.ExtractBand(0, channels));
            Image meanYy = scope.Own(blurred.ExtractBand(channels, channels));
            Image meanXy = scope.Own(blurred.ExtractBand(2 * channels, channels));

            Image muXmuY = scope.Own(muX * muY);
            Image muXSquared = scope.Own(muX * muX);
            Image muYSquared = scope.Own(muY * muY);
            Image covariance = scope.Own(meanXy - muXmuY);
            Image varianceSum = scope.Own(scope.Own(meanXx - muXSquared) + scope.Own(meanYy - muYSquared));

            Image numerator = scope.Own(scope.Own(scope.Own(muXmuY * 2.0) + C1) * scope.Own(scope.Own(covariance * 2.0) + C2));
            Image denominator = scope.Own(scope.Own(scope.Own(muXSquared + muYSquared) + C1) * scope.Own(varianceSum + C2));
            return (scope.Own(numerator / denominator), muX, muY);
        }

        /// <summary>The Gaussian window's weighted local mean of every band, borders mirrored (edge pixel repeated).</summary>
        private static Image Blur(Scope scope, Image image)
        {
            int width = image.Width, height = image.Height;
            Image window = scope.Own(Image.NewFromArray(ToRow(Window())));
            Image padded = scope.Own(image.Embed(WindowRadius, WindowRadius, width + (2 * WindowRadius), height + (2 * WindowRadius), extend: Enums.Extend.Mirror));
            Image blurred = scope.Own(padded.Convsep(window, precision: Enums.Precision.Float));
            return scope.Own(blurred.Crop(WindowRadius, WindowRadius, width, height));
        }

        private static double[,] ToRow(double[] values)
        {
            var row = new double[1, values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                row[0, i] = values[i];
            }

            return row;
        }

        private static double[] BandMeans(Scope scope, Image image)
        {
            // stats: one row per band after the all-bands row; column 4 is the mean.
            Image stats = scope.Own(image.Stats());
            return Enumerable.Range(0, image.Bands).Select(band => stats.Getpoint(4, band + 1)[0]).ToArray();
        }

        /// <summary>The minimum of each of the first <paramref name="channels"/> bands after a 4x4 box average.</summary>
        private static double[] WorstBlocks(Scope scope, Image map, int channels)
        {
            int width = Math.Max(1, map.Width / 4), height = Math.Max(1, map.Height / 4);
            Image blocks = map.Width >= 4 && map.Height >= 4
                ? scope.Own(scope.Own(scope.Own(map.ExtractBand(0, channels)).Crop(0, 0, width * 4, height * 4)).Shrink(4, 4))
                : scope.Own(map.ExtractBand(0, channels));
            Image stats = scope.Own(blocks.Stats());
            return Enumerable.Range(0, channels).Select(band => stats.Getpoint(0, band + 1)[0]).ToArray();
        }

        /// <summary>Per band, the mean of each row and of each column.</summary>
        private static (double[][] Rows, double[][] Columns) RowAndColumnMeans(Scope scope, Image image)
        {
            object[] sums = image.Project();
            Image columnSums = scope.Own((Image)sums[0]);
            Image rowSums = scope.Own((Image)sums[1]);
            double[] columns = scope.Own(columnSums.Cast(Enums.BandFormat.Double)).WriteToMemory<double>();
            double[] rows = scope.Own(rowSums.Cast(Enums.BandFormat.Double)).WriteToMemory<double>();
            int bands = image.Bands;
            double[][] Split(double[] interleaved, int count, double divisor) =>
                Enumerable.Range(0, bands).Select(b => Enumerable.Range(0, count).Select(i => interleaved[(i * bands) + b] / divisor).ToArray()).ToArray();
            return (Split(rows, image.Height, image.Width), Split(columns, image.Width, image.Height));
        }

        /// <summary>The value with (count / 50) values below it, as SSIMULACRA picks the 2nd-percentile worst.</summary>
        private static double SecondPercentile(double[] values)
        {
            double[] sorted = (double[])values.Clone();
            Array.Sort(sorted);
            return sorted[Math.Min(sorted.Length - 1, sorted.Length / 50)];
        }
    }

    /// <summary>Disposes the intermediate images of one computation (each holds a libvips reference).</summary>
    private sealed class Scope : IDisposable
    {
        private readonly List<Image> images = new();

        public Image Own(Image image)
        {
            images.Add(image);
            return image;
        }

        public void Dispose()
        {
            foreach (Image image in images)
            {
                image.Dispose();
            }

            images.Clear();
        }
    }
}
