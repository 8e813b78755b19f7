using System;
using System.Text;

namespace KoalaPic.Build.Engine;

/// <summary>
/// Tells HEIC (HEVC-coded HEIF, as phones write it) from other HEIF files such as AVIF by the brands in the file's
/// 'ftyp' box. libvips identifies both with one loader but has no HEVC decoder, so HEIC goes to ImageMagick.
/// </summary>
internal static class HeifBrands
{
    // ISO/IEC 23008-12: images and sequences coded with HEVC, its range extensions, multi-layer and scalable profiles.
    private static readonly string[] Hevc = { "heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs" };

    /// <summary>Whether the bytes start with an 'ftyp' box whose major or compatible brands name HEVC.</summary>
    public static bool IsHeic(byte[] source)
    {
        if (source.Length < 16 || Encoding.ASCII.GetString(source, 4, 4) != "ftyp")
        {
            return false;
        }

        long size = ((long)source[0] << 24) | ((long)source[1] << 16) | ((long)source[2] << 8) | source[3];
        if (size < 16 || size > source.Length || size % 4 != 0)
        {
            return false;
        }

        if (Array.IndexOf(Hevc, Encoding.ASCII.GetString(source, 8, 4)) >= 0)
        {
            return true;
        }

        for (int offset = 16; offset + 4 <= size; offset += 4)
        {
            if (Array.IndexOf(Hevc, Encoding.ASCII.GetString(source, offset, 4)) >= 0)
            {
                return true;
            }
        }

        return false;
    }
}
