using System.Collections.Generic;
using NetVips;

namespace KoalaPic.Build.Engine;

/// <summary>
/// The .NET Framework build has no ImageMagick: the .NET Framework task never converts in process (it runs the .NET 8
/// koalapic process, which has the real <c>MagickCodec</c>), so these only say so.
/// </summary>
internal static class MagickCodec
{
    /// <summary>ImageMagick could not be loaded, or its security policy could not be put in force.</summary>
    internal const string ImageMagickUnavailable = DiagnosticCodes.ImageMagickUnavailable;

    /// <summary>The Magick.NET package version, for cache keys of outputs ImageMagick writes (reading it loads nothing).</summary>
    internal const string MagickNetVersion = "15.1.0";

    public static Image Decode(FormatDescriptor format, byte[] source, long maxPixels) => throw Unavailable();

    public static Image DecodeHeic(byte[] source, long maxPixels) => throw Unavailable();

    public static byte[] EncodeIco(Image image, IReadOnlyList<int> sizes) => throw Unavailable();

    public static byte[] EncodeBmp(Image image) => throw Unavailable();

    public static byte[] EncodePdf(Image image, int quality, bool lossless) => throw Unavailable();

    public static Image DecodeJxl(byte[] source, long maxPixels) => throw Unavailable();

    public static byte[] EncodeJxl(Image image, int quality, bool lossless, int? effort = null) => throw Unavailable();

    private static ImageConversionException Unavailable() => new(
        ImageMagickUnavailable,
        "ImageMagick (ico, bmp, pdf and jxl output, HEIC and JXL input) runs only in the .NET 8 engine (the koalapic process), not in the .NET Framework task.");
}
