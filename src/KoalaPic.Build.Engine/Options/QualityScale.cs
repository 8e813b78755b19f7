using System;
using System.Collections.Generic;
using System.Linq;

namespace KoalaPic.Build.Engine;

/// <summary>
/// One visual meaning of <c>Quality</c> for every lossy format: "looks like JPEG at this quality". Each format's row
/// (<see cref="FormatDescriptor.QualityScale"/>) maps a
/// JPEG quality to the encoder's own quality whose median SSIMULACRA distance (<see cref="SmartQuality.Distance"/>)
/// on the corpus equals JPEG's at that quality; between the points the encoder quality is interpolated linearly.
/// </summary>
/// <remarks>
/// Measured by bench/quality-calibration (its README has the command, the images and the width) on the corpus photos:
/// on graphics every encoder reaches JPEG's distance at a lower quality, so rows from the photos keep the promise on
/// both (graphics look at least as good as JPEG), while rows from all images would make photos look worse than the
/// JPEG they promise. The jump between 85 and 90 is JPEG's: libvips stops halving its colour resolution at 90. Where
/// an encoder does not reach JPEG's distance even at 100 (lossy WebP is always 4:2:0), the row holds 100. Formats
/// without a row use <c>Quality</c> as it is: jpg, and tiff, pdf and svg, which embed JPEG. jxl's row is measured
/// through ImageMagick's libjxl, as the engine writes and reads it (NetVips.Native has no libjxl). png keeps its
/// libimagequant palette quality: palette size, not a continuous loss, decides its bytes, and dithered palettes score
/// badly on structural metrics even when they look right (the reason smart quality leaves png out too). gif, ico and
/// bmp have no quality.
/// The rows decide output bytes but are not in <see cref="ConversionOptions.CacheKeyText"/>: change them only with a
/// new <see cref="ContentKey"/> schema, so that caches made with the old rows are not served.
/// </remarks>
internal static class QualityScale
{
    /// <summary>The JPEG qualities of every row's points, lowest first.</summary>
    internal static readonly int[] JpegQualities = { 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 100 };

    /// <summary>Per format that has one, its row (<see cref="FormatDescriptor.QualityScale"/>).</summary>
    internal static IReadOnlyDictionary<ImageFormat, int[]> Rows => ImageFormats.All
        .Where(d => d.QualityScale != null)
        .ToDictionary(d => d.Format, d => d.QualityScale!.ToArray());

    /// <summary>
    /// The quality to hand <paramref name="format"/>'s encoder for an output that looks like JPEG at
    /// <paramref name="quality"/> (1–100). Below the first point the encoder quality falls linearly to 1 at 1.
    /// </summary>
    internal static int EncoderQuality(ImageFormat format, int quality)
    {
        if (quality < 1 || quality > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(quality), quality, "Quality is a whole number from 1 to 100");
        }

        if (ImageFormats.Of(format).QualityScale is not IReadOnlyList<int> row)
        {
            return quality;
        }

        (int fromJpeg, int fromEncoder) = (1, 1);
        for (int i = 0; i < JpegQualities.Length; i++)
        {
            (int toJpeg, int toEncoder) = (JpegQualities[i], row[i]);
            if (quality <= toJpeg)
            {
                double fraction = (double)(quality - fromJpeg) / (toJpeg - fromJpeg);
                double encoder = fromEncoder + (fraction * (toEncoder - fromEncoder));
                return (int)Math.Round(encoder, MidpointRounding.AwayFromZero);
            }

            (fromJpeg, fromEncoder) = (toJpeg, toEncoder);
        }

        return row[row.Count - 1];
    }
}
