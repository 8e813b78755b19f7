using System;

namespace KoalaPic.Build.Engine;

/// <summary>
/// Recognises JPEG XL by its first bytes (ISO/IEC 18181-2): a bare codestream starts FF 0A, the ISOBMFF container with
/// its 12-byte 'JXL ' signature box. libvips (NetVips.Native) has no JXL loader, so these sources go to ImageMagick.
/// </summary>
internal static class JxlSignature
{
    private static readonly byte[] Codestream = { 0xFF, 0x0A };

    private static readonly byte[] Container = { 0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20, 0x0D, 0x0A, 0x87, 0x0A };

    public static bool IsJxl(byte[] source) =>
        source.AsSpan().StartsWith(Codestream) || source.AsSpan().StartsWith(Container);
}
