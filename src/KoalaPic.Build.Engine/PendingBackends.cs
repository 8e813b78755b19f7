// TEMPORARY: stand-ins for the backends being built on the helper branches; deleted when they are merged.
using System;
using System.Collections.Generic;
using NetVips;

namespace KoalaPic.Build.Engine;

internal sealed record SmartQualityResult(byte[] Bytes, int Quality, double Score, int Encodes);

internal static class SmartQuality
{
    public static bool Supports(ImageFormat format) => format is ImageFormat.Jpeg or ImageFormat.Webp or ImageFormat.Avif;

    public static SmartQualityResult Search(Image reference, SmartQualityLevel level, Func<int, byte[]> encodeAtQuality, Func<byte[], Image> decode) =>
        new(encodeAtQuality(level switch { SmartQualityLevel.Low => 60, SmartQualityLevel.Medium => 75, _ => 90 }), 0, 0, 1);
}

internal static class MagickCodec
{
    public static Image DecodeHeic(byte[] source, long maxPixels) => throw new ImageConversionException(DiagnosticCodes.CannotDecode, "HEIC input is not wired yet");

    public static byte[] EncodeIco(Image image, IReadOnlyList<int> sizes) => throw Pending("ico");

    public static byte[] EncodeBmp(Image image) => throw Pending("bmp");

    public static byte[] EncodePdf(Image image, int quality, bool lossless) => throw Pending("pdf");

    private static Exception Pending(string format) => new ImageConversionException(DiagnosticCodes.CannotEncode, format + " output is not wired yet");
}

internal static class HeicEncoder
{
    public static byte[] Encode(Image image, int quality, bool lossless) => throw new ImageConversionException("KP2006", "heic output is not wired yet");
}

internal static class SvgWriter
{
    public static byte[] EmbedRaster(Image image, int quality) => throw new ImageConversionException(DiagnosticCodes.CannotEncode, "svg output is not wired yet");

    public static (byte[] Bytes, int Width, int Height) Sanitize(byte[] svg, int? width, int? height, FitMode fit) =>
        throw new ImageConversionException(DiagnosticCodes.CannotEncode, "svg output is not wired yet");
}
