using System;
using System.Collections.Generic;

namespace KoalaPic.Build.Engine;

/// <summary>
/// Evan Wallace's ThumbHash (https://evanw.github.io/thumbhash/): an image of at most 100×100 RGBA pixels becomes
/// about 25 bytes, the DC and a few quantised DCT terms of its luminance, two colour channels and alpha; decoding
/// gives back a blurry image of at most 32×32 pixels with the source's aspect ratio. A port of the reference
/// JavaScript (npm package <c>thumbhash</c> 0.1.1), operation for operation and with JavaScript's cosine
/// (<see cref="FdlibmCos"/>) and rounding, so that the bytes are the same: bench/thumbhash/reference.mjs makes the
/// expected values the tests compare with.
/// </summary>
public static class ThumbHash
{
    /// <summary>The largest width and height the encoder takes; larger images give the same hash, only slower.</summary>
    public const int MaxInputSide = 100;

    /// <summary>The decoded image's longer side.</summary>
    public const int DecodedSide = 32;

    /// <summary>Encodes <paramref name="rgba"/> (row by row, 4 bytes a pixel, not premultiplied).</summary>
    public static byte[] Encode(int width, int height, ReadOnlySpan<byte> rgba)
    {
        if (width < 1 || height < 1 || width > MaxInputSide || height > MaxInputSide)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"{width}x{height} does not fit in {MaxInputSide}x{MaxInputSide}.");
        }

        int w = width, h = height, n = w * h;
        if (rgba.Length != n * 4)
        {
            throw new ArgumentException($"{width}x{height} needs {n * 4} bytes, not {rgba.Length}.", nameof(rgba));
        }

        // The average colour, weighted by alpha.
        double avgR = 0, avgG = 0, avgB = 0, avgA = 0;
        for (int i = 0, j = 0; i < n; i++, j += 4)
        {
            double alpha = rgba[j + 3] / 255.0;
            avgR += alpha / 255 * rgba[j];
            avgG += alpha / 255 * rgba[j + 1];
            avgB += alpha / 255 * rgba[j + 2];
            avgA += alpha;
        }

        if (avgA != 0)
        {
            avgR /= avgA;
            avgG /= avgA;
            avgB /= avgA;
        }

        bool hasAlpha = avgA < n;
        int lLimit = hasAlpha ? 5 : 7; // fewer luminance terms when alpha takes bytes
        int lx = Math.Max(1, Round(lLimit * w / (double)Math.Max(w, h)));
        int ly = Math.Max(1, Round(lLimit * h / (double)Math.Max(w, h)));
        var l = new double[n];
        var p = new double[n];
        var q = new double[n];
        var a = new double[n];

        // RGBA to LPQA, composited over the average colour.
        for (int i = 0, j = 0; i < n; i++, j += 4)
        {
            double alpha = rgba[j + 3] / 255.0;
            double r = avgR * (1 - alpha) + alpha / 255 * rgba[j];
            double g = avgG * (1 - alpha) + alpha / 255 * rgba[j + 1];
            double b = avgB * (1 - alpha) + alpha / 255 * rgba[j + 2];
            l[i] = (r + g + b) / 3;
            p[i] = (r + g) / 2 - b;
            q[i] = r - g;
            a[i] = alpha;
        }

        var (lDc, lAc, lScale) = EncodeChannel(l, w, h, Math.Max(3, lx), Math.Max(3, ly));
        var (pDc, pAc, pScale) = EncodeChannel(p, w, h, 3, 3);
        var (qDc, qAc, qScale) = EncodeChannel(q, w, h, 3, 3);
        var (aDc, aAc, aScale) = hasAlpha ? EncodeChannel(a, w, h, 5, 5) : (0, new List<double>(), 0);

        bool isLandscape = w > h;
        int header24 = Round(63 * lDc) | (Round(31.5 + 31.5 * pDc) << 6) | (Round(31.5 + 31.5 * qDc) << 12)
            | (Round(31 * lScale) << 18) | ((hasAlpha ? 1 : 0) << 23);
        int header16 = (isLandscape ? ly : lx) | (Round(63 * pScale) << 3) | (Round(63 * qScale) << 9) | ((isLandscape ? 1 : 0) << 15);
        int acStart = hasAlpha ? 6 : 5;
        int acCount = lAc.Count + pAc.Count + qAc.Count + aAc.Count;
        var hash = new byte[acStart + (acCount + 1) / 2];
        hash[0] = (byte)header24;
        hash[1] = (byte)(header24 >> 8);
        hash[2] = (byte)(header24 >> 16);
        hash[3] = (byte)header16;
        hash[4] = (byte)(header16 >> 8);
        if (hasAlpha)
        {
            hash[5] = (byte)(Round(15 * aDc) | (Round(15 * aScale) << 4));
        }

        int acIndex = 0;
        foreach (List<double> ac in hasAlpha ? new[] { lAc, pAc, qAc, aAc } : new[] { lAc, pAc, qAc })
        {
            foreach (double f in ac)
            {
                hash[acStart + (acIndex >> 1)] |= (byte)(Round(15 * f) << ((acIndex & 1) << 2));
                acIndex++;
            }
        }

        return hash;
    }

    /// <summary>The DC term and the AC terms normalised to 0..1 by their largest magnitude, which is returned as the scale.</summary>
    private static (double Dc, List<double> Ac, double Scale) EncodeChannel(double[] channel, int w, int h, int nx, int ny)
    {
        double dc = 0, scale = 0;
        var ac = new List<double>();
        var fx = new double[w];
        for (int cy = 0; cy < ny; cy++)
        {
            for (int cx = 0; cx * ny < nx * (ny - cy); cx++)
            {
                double f = 0;
                for (int x = 0; x < w; x++)
                {
                    fx[x] = FdlibmCos.Cos(Math.PI / w * cx * (x + 0.5));
                }

                for (int y = 0; y < h; y++)
                {
                    double fy = FdlibmCos.Cos(Math.PI / h * cy * (y + 0.5));
                    for (int x = 0; x < w; x++)
                    {
                        f += channel[x + y * w] * fx[x] * fy;
                    }
                }

                f /= w * h;
                if (cx != 0 || cy != 0)
                {
                    ac.Add(f);
                    scale = Math.Max(scale, Math.Abs(f));
                }
                else
                {
                    dc = f;
                }
            }
        }

        if (scale != 0)
        {
            for (int i = 0; i < ac.Count; i++)
            {
                ac[i] = 0.5 + 0.5 / scale * ac[i];
            }
        }

        return (dc, ac, scale);
    }

    /// <summary>Decodes a hash to an image of at most <see cref="DecodedSide"/> pixels a side, RGBA, not premultiplied.</summary>
    /// <exception cref="ArgumentException">The hash is shorter than its header says.</exception>
    public static (int Width, int Height, byte[] Rgba) Decode(ReadOnlySpan<byte> hash)
    {
        if (hash.Length < 5)
        {
            throw new ArgumentException("A ThumbHash has at least 5 bytes.", nameof(hash));
        }

        int header24 = hash[0] | (hash[1] << 8) | (hash[2] << 16);
        int header16 = hash[3] | (hash[4] << 8);
        double lDc = (header24 & 63) / 63.0;
        double pDc = ((header24 >> 6) & 63) / 31.5 - 1;
        double qDc = ((header24 >> 12) & 63) / 31.5 - 1;
        double lScale = ((header24 >> 18) & 31) / 31.0;
        bool hasAlpha = (header24 >> 23) != 0;
        double pScale = ((header16 >> 3) & 63) / 63.0;
        double qScale = ((header16 >> 9) & 63) / 63.0;
        bool isLandscape = (header16 >> 15) != 0;
        int lx = Math.Max(3, isLandscape ? (hasAlpha ? 5 : 7) : header16 & 7);
        int ly = Math.Max(3, isLandscape ? header16 & 7 : (hasAlpha ? 5 : 7));
        int acStart = hasAlpha ? 6 : 5;
        if (hasAlpha && hash.Length < 6)
        {
            throw new ArgumentException("A ThumbHash with alpha has at least 6 bytes.", nameof(hash));
        }

        double aDc = hasAlpha ? (hash[5] & 15) / 15.0 : 1;
        double aScale = hasAlpha ? (hash[5] >> 4) / 15.0 : 0;

        // The AC terms; saturation boosted 1.25× against the quantisation, as the reference does.
        int acIndex = 0;
        byte[] bytes = hash.ToArray();
        double[] DecodeChannel(int nx, int ny, double channelScale)
        {
            var ac = new List<double>();
            for (int cy = 0; cy < ny; cy++)
            {
                for (int cx = cy != 0 ? 0 : 1; cx * ny < nx * (ny - cy); cx++)
                {
                    int at = acStart + (acIndex >> 1);
                    if (at >= bytes.Length)
                    {
                        throw new ArgumentException("The ThumbHash is shorter than its header says.", nameof(hash));
                    }

                    ac.Add((((bytes[at] >> ((acIndex & 1) << 2)) & 15) / 7.5 - 1) * channelScale);
                    acIndex++;
                }
            }

            return ac.ToArray();
        }

        double[] lAc = DecodeChannel(lx, ly, lScale);
        double[] pAc = DecodeChannel(3, 3, pScale * 1.25);
        double[] qAc = DecodeChannel(3, 3, qScale * 1.25);
        double[] aAc = hasAlpha ? DecodeChannel(5, 5, aScale) : Array.Empty<double>();

        double ratio = ApproximateAspectRatio(hash);
        int w = Round(ratio > 1 ? 32 : 32 * ratio);
        int h = Round(ratio > 1 ? 32 / ratio : 32);
        var rgba = new byte[w * h * 4];
        var fx = new double[Math.Max(lx, hasAlpha ? 5 : 3)];
        var fy = new double[Math.Max(ly, hasAlpha ? 5 : 3)];
        for (int y = 0, i = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++, i += 4)
            {
                double l = lDc, p = pDc, q = qDc, a = aDc;
                for (int cx = 0; cx < fx.Length; cx++)
                {
                    fx[cx] = FdlibmCos.Cos(Math.PI / w * (x + 0.5) * cx);
                }

                for (int cy = 0; cy < fy.Length; cy++)
                {
                    fy[cy] = FdlibmCos.Cos(Math.PI / h * (y + 0.5) * cy);
                }

                for (int cy = 0, j = 0; cy < ly; cy++)
                {
                    double fy2 = fy[cy] * 2;
                    for (int cx = cy != 0 ? 0 : 1; cx * ly < lx * (ly - cy); cx++, j++)
                    {
                        l += lAc[j] * fx[cx] * fy2;
                    }
                }

                for (int cy = 0, j = 0; cy < 3; cy++)
                {
                    double fy2 = fy[cy] * 2;
                    for (int cx = cy != 0 ? 0 : 1; cx < 3 - cy; cx++, j++)
                    {
                        double f = fx[cx] * fy2;
                        p += pAc[j] * f;
                        q += qAc[j] * f;
                    }
                }

                if (hasAlpha)
                {
                    for (int cy = 0, j = 0; cy < 5; cy++)
                    {
                        double fy2 = fy[cy] * 2;
                        for (int cx = cy != 0 ? 0 : 1; cx < 5 - cy; cx++, j++)
                        {
                            a += aAc[j] * fx[cx] * fy2;
                        }
                    }
                }

                double b = l - 2.0 / 3 * p;
                double r = (3 * l - b + q) / 2;
                double g = r - q;
                rgba[i] = ToByte(r);
                rgba[i + 1] = ToByte(g);
                rgba[i + 2] = ToByte(b);
                rgba[i + 3] = ToByte(a);
            }
        }

        return (w, h, rgba);
    }

    /// <summary>The source's width over its height, as the hash's term counts give it (7:1 at most).</summary>
    public static double ApproximateAspectRatio(ReadOnlySpan<byte> hash)
    {
        int header = hash[3];
        bool hasAlpha = (hash[2] & 0x80) != 0;
        bool isLandscape = (hash[4] & 0x80) != 0;
        int lx = isLandscape ? (hasAlpha ? 5 : 7) : header & 7;
        int ly = isLandscape ? header & 7 : (hasAlpha ? 5 : 7);
        return lx / (double)ly;
    }

    /// <summary>JavaScript's <c>Math.round</c>: halves go up (toward +∞), not to even.</summary>
    private static int Round(double value)
    {
        double floor = Math.Floor(value);
        return (int)(value - floor >= 0.5 ? floor + 1 : floor);
    }

    /// <summary>As a <c>Uint8Array</c> stores <c>max(0, 255 * min(1, v))</c>: clamped, then truncated.</summary>
    private static byte ToByte(double value) => (byte)Math.Max(0, 255 * Math.Min(1, value));
}
