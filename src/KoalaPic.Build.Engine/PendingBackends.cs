// TEMPORARY: stand-ins for the backends being built on the helper branches; deleted when they are merged.
using System;
using System.Collections.Generic;
using NetVips;

namespace KoalaPic.Build.Engine;

internal static class SvgWriter
{
    public static byte[] EmbedRaster(Image image, int quality) => throw new ImageConversionException(DiagnosticCodes.CannotEncode, "svg output is not wired yet");

    public static (byte[] Bytes, int Width, int Height) Sanitize(byte[] svg, int? width, int? height, FitMode fit) =>
        throw new ImageConversionException(DiagnosticCodes.CannotEncode, "svg output is not wired yet");
}
