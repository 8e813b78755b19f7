using NetVips;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// A slow, straightforward SSIMULACRA on plain arrays (per-pixel loops, a full 11x11 window, its own sRGB to Lab
/// conversion), written from the description in SmartQuality.Ssimulacra, to check the libvips implementation against.
/// libvips is used only to read pixels.
/// </summary>
internal static class SlowSsimulacra
{
    private const double C1 = 0.0001, C2 = 0.0004;

    private static readonly double[,] ScaleWeights =
    {
        { 0.0448, 0.2856, 0.3001, 0.2363, 0.1333, 0.1 },
        { 0.015, 0.0448, 0.2856, 0.3001, 0.3363, 0.25 },
        { 0.015, 0.0448, 0.2856, 0.3001, 0.3363, 0.25 },
    };

    private static readonly double[,] WorstBlockScaleWeights =
    {
        { 0.2, 0.3, 0.25, 0.2, 0.12, 0.05 },
        { 0.01, 0.05, 0.2, 0.3, 0.35, 0.35 },
        { 0.01, 0.05, 0.2, 0.3, 0.35, 0.35 },
    };

    private static readonly double[] WorstBlockWeight = { 0.1, 0.005, 0.005 };
    private static readonly double[] ExtraEdgesWeight = { 1.5, 0.1, 0.1 };
    private static readonly double[] WorstGridWeight = { 1.0, 0.1, 0.1 };

    /// <summary>Distance of two 8-bit images; a transparent reference means both are composited onto black and onto white, the worse counts.</summary>
    public static double Distance(Image reference, Image candidate)
    {
        bool alpha = reference.HasAlpha();
        bool colour = (reference.HasAlpha() ? reference.Bands - 1 : reference.Bands) >= 3;
        double[] backgrounds = alpha ? new[] { 0.0, 255.0 } : new[] { 255.0 };
        return backgrounds.Max(background => Compare(ToLab(reference, background, colour), ToLab(candidate, background, colour)));
    }

    /// <summary>Planes [channel][y, x] of 0..1-scaled Lab (L only for grey).</summary>
    private static double[][,] ToLab(Image image, double background, bool colour)
    {
        int width = image.Width, height = image.Height, bands = image.Bands;
        byte[] pixels = image.WriteToMemory<byte>();
        bool alpha = image.HasAlpha();
        int colourBands = alpha ? bands - 1 : bands;
        int channels = colour ? 3 : 1;
        var planes = Enumerable.Range(0, channels).Select(_ => new double[height, width]).ToArray();
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int offset = ((y * width) + x) * bands;
                double opacity = alpha ? pixels[offset + bands - 1] / 255.0 : 1;
                double Sample(int band)
                {
                    double value = pixels[offset + Math.Min(band, colourBands - 1)];
                    // libvips' flatten rounds to 8 bits; so does this.
                    return alpha ? Math.Round((value * opacity) + (background * (1 - opacity))) : value;
                }

                (double l, double a, double b) = Lab(Sample(0), Sample(1), Sample(2));
                planes[0][y, x] = l / 100;
                if (colour)
                {
                    planes[1][y, x] = 0.39181818181818181818 + (a / 220);
                    planes[2][y, x] = 0.49045454545454545454 + (b / 220);
                }
            }
        }

        return planes;
    }

    /// <summary>CIE L*a*b* (D65) of an 8-bit sRGB colour, from the sRGB and CIE definitions.</summary>
    public static (double L, double A, double B) Lab(double r8, double g8, double b8)
    {
        static double Linear(double v)
        {
            double c = v / 255;
            return c <= 0.04045 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
        }

        double r = Linear(r8), g = Linear(g8), b = Linear(b8);
        double x = ((0.4124564 * r) + (0.3575761 * g) + (0.1804375 * b)) / 0.95047;
        double y = (0.2126729 * r) + (0.7151522 * g) + (0.0721750 * b);
        double z = ((0.0193339 * r) + (0.1191920 * g) + (0.9503041 * b)) / 1.08883;
        static double F(double t) => t > 216.0 / 24389 ? Math.Cbrt(t) : ((24389.0 / 27 * t) + 16) / 116;
        return ((116 * F(y)) - 16, 500 * (F(x) - F(y)), 200 * (F(y) - F(z)));
    }

    private static double Compare(double[][,] reference, double[][,] candidate)
    {
        int channels = reference.Length;
        double score = 0, maximum = 0;
        double[][,] x = reference, y = candidate;
        for (int scale = 0; scale < 6; scale++)
        {
            if (scale > 0)
            {
                if (x[0].GetLength(1) / 2 < 8 || x[0].GetLength(0) / 2 < 8)
                {
                    break;
                }

                x = x.Select(Halve).ToArray();
                y = y.Select(Halve).ToArray();
            }

            for (int c = 0; c < channels; c++)
            {
                (double[,] map, double[,] muX, double[,] muY) = SsimMap(x[c], y[c]);
                double weight = (c > 0 ? 0.2 : 1.0) * ScaleWeights[c, scale];
                score += weight * Mean(map);
                maximum += weight;

                double blockWeight = WorstBlockWeight[c] * WorstBlockScaleWeights[c, scale];
                score += blockWeight * Min(Quarter(map));
                maximum += blockWeight;

                if (scale == 0)
                {
                    int height = map.GetLength(0), width = map.GetLength(1);
                    var noArtifactEdges = new double[height, width];
                    for (int i = 0; i < height; i++)
                    {
                        for (int j = 0; j < width; j++)
                        {
                            double gain = Math.Abs(y[c][i, j] - muY[i, j]) - Math.Abs(x[c][i, j] - muX[i, j]);
                            noArtifactEdges[i, j] = 1 - Math.Max(gain, 0);
                        }
                    }

                    score += ExtraEdgesWeight[c] * Mean(noArtifactEdges);
                    maximum += ExtraEdgesWeight[c];
                    foreach (double[,] m in new[] { map, noArtifactEdges })
                    {
                        score += WorstGridWeight[c] * SecondPercentile(RowMeans(m));
                        score += WorstGridWeight[c] * SecondPercentile(ColumnMeans(m));
                        maximum += 2 * WorstGridWeight[c];
                    }
                }
            }
        }

        return Math.Max(0, (maximum / score) - 1);
    }

    private static (double[,] Map, double[,] MuX, double[,] MuY) SsimMap(double[,] x, double[,] y)
    {
        int height = x.GetLength(0), width = x.GetLength(1);
        double[] taps = Enumerable.Range(-5, 11).Select(i => Math.Exp(-(i * i) / (2 * 1.5 * 1.5))).ToArray();
        double tapSum = taps.Sum();
        var map = new double[height, width];
        var muXs = new double[height, width];
        var muYs = new double[height, width];
        for (int i = 0; i < height; i++)
        {
            for (int j = 0; j < width; j++)
            {
                double muX = 0, muY = 0, xx = 0, yy = 0, xy = 0;
                for (int di = -5; di <= 5; di++)
                {
                    for (int dj = -5; dj <= 5; dj++)
                    {
                        double w = taps[di + 5] * taps[dj + 5] / (tapSum * tapSum);
                        int si = Mirror(i + di, height), sj = Mirror(j + dj, width);
                        double a = x[si, sj], b = y[si, sj];
                        muX += w * a;
                        muY += w * b;
                        xx += w * a * a;
                        yy += w * b * b;
                        xy += w * a * b;
                    }
                }

                double covariance = xy - (muX * muY);
                double varianceSum = (xx - (muX * muX)) + (yy - (muY * muY));
                map[i, j] = ((2 * muX * muY) + C1) * ((2 * covariance) + C2) / (((muX * muX) + (muY * muY) + C1) * (varianceSum + C2));
                muXs[i, j] = muX;
                muYs[i, j] = muY;
            }
        }

        return (map, muXs, muYs);
    }

    /// <summary>Symmetric mirror about the border (the edge pixel repeats): -1 → 0, n → n - 1.</summary>
    private static int Mirror(int index, int size)
    {
        while (index < 0 || index >= size)
        {
            index = index < 0 ? -index - 1 : (2 * size) - index - 1;
        }

        return index;
    }

    private static double[,] Halve(double[,] plane) => BoxDown(plane, 2);

    private static double[,] Quarter(double[,] plane) => BoxDown(plane, 4);

    /// <summary>Box average of factor × factor blocks; a partial last block is dropped.</summary>
    private static double[,] BoxDown(double[,] plane, int factor)
    {
        int height = plane.GetLength(0) / factor, width = plane.GetLength(1) / factor;
        var result = new double[height, width];
        for (int i = 0; i < height; i++)
        {
            for (int j = 0; j < width; j++)
            {
                double sum = 0;
                for (int di = 0; di < factor; di++)
                {
                    for (int dj = 0; dj < factor; dj++)
                    {
                        sum += plane[(i * factor) + di, (j * factor) + dj];
                    }
                }

                result[i, j] = sum / (factor * factor);
            }
        }

        return result;
    }

    private static double Mean(double[,] plane) => plane.Cast<double>().Average();

    private static double Min(double[,] plane) => plane.Cast<double>().Min();

    private static double[] RowMeans(double[,] plane) =>
        Enumerable.Range(0, plane.GetLength(0)).Select(i => Enumerable.Range(0, plane.GetLength(1)).Average(j => plane[i, j])).ToArray();

    private static double[] ColumnMeans(double[,] plane) =>
        Enumerable.Range(0, plane.GetLength(1)).Select(j => Enumerable.Range(0, plane.GetLength(0)).Average(i => plane[i, j])).ToArray();

    private static double SecondPercentile(double[] values)
    {
        double[] sorted = values.OrderBy(v => v).ToArray();
        return sorted[Math.Min(sorted.Length - 1, sorted.Length / 50)];
    }
}
