using System;

namespace KoalaPic.Build.Engine;

/// <summary>
/// fdlibm's <c>cos</c> (Sun Microsystems, 1993; the code V8 runs for JavaScript's <c>Math.cos</c>), for the ThumbHash
/// port. <see cref="Math.Cos"/> calls the C library, whose last bit differs from fdlibm's for about 3% of the
/// arguments ThumbHash uses; on a near-uniform channel the hash normalises its DCT terms by their largest magnitude,
/// so a last-bit difference there changes the hash's bytes. Only the ranges ThumbHash needs: 0 ≤ x &lt; 2^19·π/2.
/// </summary>
internal static class FdlibmCos
{
    private const double C1 = 4.16666666666666019037e-02;
    private const double C2 = -1.38888888888741095749e-03;
    private const double C3 = 2.48015872894767294178e-05;
    private const double C4 = -2.75573143513906633035e-07;
    private const double C5 = 2.08757232129817482790e-09;
    private const double C6 = -1.13596475577881948265e-11;

    private const double S1 = -1.66666666666666324348e-01;
    private const double S2 = 8.33333333332248946124e-03;
    private const double S3 = -1.98412698298579493134e-04;
    private const double S4 = 2.75573137070700676789e-06;
    private const double S5 = -2.50507602534068634195e-08;
    private const double S6 = 1.58969099521155010221e-10;

    private const double InvPio2 = 6.36619772367581382433e-01;
    private const double Pio2_1 = 1.57079632673412561417e+00;
    private const double Pio2_1t = 6.07710050650619224932e-11;
    private const double Pio2_2 = 6.07710050630396597660e-11;
    private const double Pio2_2t = 2.02226624879595063154e-21;
    private const double Pio2_3 = 2.02226624871116645580e-21;
    private const double Pio2_3t = 8.47842766036889956997e-32;

    /// <summary>The high words of n·π/2 for n = 1..32: a reduction near them may cancel and needs more bits of π.</summary>
    private static readonly int[] Npio2HighWords =
    {
        0x3FF921FB, 0x400921FB, 0x4012D97C, 0x401921FB, 0x401F6A7A, 0x4022D97C, 0x4025FDBB, 0x402921FB,
        0x402C463A, 0x402F6A7A, 0x4031475C, 0x4032D97C, 0x40346B9C, 0x4035FDBB, 0x40378FDB, 0x403921FB,
        0x403AB41B, 0x403C463A, 0x403DD85A, 0x403F6A7A, 0x40407E4C, 0x4041475C, 0x4042106C, 0x4042D97C,
        0x4043A28C, 0x40446B9C, 0x404534AC, 0x4045FDBB, 0x4046C6CB, 0x40478FDB, 0x404858EB, 0x404921FB,
    };

    public static double Cos(double x)
    {
        int ix = HighWord(x) & 0x7FFFFFFF;
        if (ix <= 0x3FE921FB)
        {
            return KernelCos(x, 0);
        }

        if (x < 0 || ix > 0x413921FB)
        {
            // Not reached by ThumbHash (its arguments are below 8π); the medium reduction below covers it.
            throw new ArgumentOutOfRangeException(nameof(x));
        }

        int n = RemPio2(x, out double y0, out double y1);
        return (n & 3) switch
        {
            0 => KernelCos(y0, y1),
            1 => -KernelSin(y0, y1),
            2 => -KernelCos(y0, y1),
            _ => KernelSin(y0, y1),
        };
    }

    private static double KernelCos(double x, double y)
    {
        int ix = HighWord(x) & 0x7FFFFFFF;
        if (ix < 0x3E400000 && (int)x == 0)
        {
            return 1.0;
        }

        double z = x * x;
        double r = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
        if (ix < 0x3FD33333)
        {
            return 1.0 - (0.5 * z - (z * r - x * y));
        }

        double qx = ix > 0x3FE90000 ? 0.28125 : BitConverter.Int64BitsToDouble((long)(ix - 0x00200000) << 32);
        double iz = 0.5 * z - qx;
        double a = 1.0 - qx;
        return a - (iz - (z * r - x * y));
    }

    /// <summary>fdlibm's <c>__kernel_sin(x, y, 1)</c>.</summary>
    private static double KernelSin(double x, double y)
    {
        int ix = HighWord(x) & 0x7FFFFFFF;
        if (ix < 0x3E400000 && (int)x == 0)
        {
            return x;
        }

        double z = x * x;
        double v = z * x;
        double r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
        return x - ((z * (0.5 * y - v * r) - y) - v * S1);
    }

    /// <summary>x − n·π/2 as y0 + y1, for 0 &lt; x ≤ 2^19·π/2; returns n.</summary>
    private static int RemPio2(double x, out double y0, out double y1)
    {
        int ix = HighWord(x) & 0x7FFFFFFF;
        if (ix < 0x4002D97C)
        {
            double z = x - Pio2_1;
            if (ix != 0x3FF921FB)
            {
                y0 = z - Pio2_1t;
                y1 = (z - y0) - Pio2_1t;
            }
            else
            {
                z -= Pio2_2;
                y0 = z - Pio2_2t;
                y1 = (z - y0) - Pio2_2t;
            }

            return 1;
        }

        double t = Math.Abs(x);
        int n = (int)(t * InvPio2 + 0.5);
        double fn = n;
        double r = t - fn * Pio2_1;
        double w = fn * Pio2_1t;
        if (n < 32 && ix != Npio2HighWords[n - 1])
        {
            y0 = r - w;
        }
        else
        {
            int j = ix >> 20;
            y0 = r - w;
            int i = j - ((HighWord(y0) >> 20) & 0x7FF);
            if (i > 16)
            {
                t = r;
                w = fn * Pio2_2;
                r = t - w;
                w = fn * Pio2_2t - ((t - r) - w);
                y0 = r - w;
                i = j - ((HighWord(y0) >> 20) & 0x7FF);
                if (i > 49)
                {
                    t = r;
                    w = fn * Pio2_3;
                    r = t - w;
                    w = fn * Pio2_3t - ((t - r) - w);
                    y0 = r - w;
                }
            }
        }

        y1 = (r - y0) - w;
        return n;
    }

    private static int HighWord(double x) => (int)(BitConverter.DoubleToInt64Bits(x) >> 32);
}
