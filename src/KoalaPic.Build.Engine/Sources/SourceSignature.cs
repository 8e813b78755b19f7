using System;
using System.Linq;
using System.Text;

namespace KoalaPic.Build.Engine;

/// <summary>
/// Why a source no allowed loader accepts is refused, with the code of its class: empty (KP2007); the signature of a
/// format KoalaPic reads but unreadable, typically truncated before its header ends (KP2002); or not an image in a
/// format KoalaPic reads at all, whatever its name says (KP2008).
/// </summary>
internal static class SourceSignature
{
    /// <summary>The formats KoalaPic reads, from the descriptors: <c>jpg, png, webp, avif, gif, tiff, heic, svg, jxl</c>.</summary>
    public static string FormatsRead { get; } = string.Join(", ", ImageFormats.All.Where(f => f.IsReadAsSource).Select(f => f.Name));

    public static ImageConversionException Unrecognised(byte[] source)
    {
        if (source.Length == 0)
        {
            return new ImageConversionException(DiagnosticCodes.EmptySource, "is empty (0 bytes)");
        }

        string? format = Recognise(source);
        return format != null
            ? new ImageConversionException(DiagnosticCodes.CannotDecode, $"starts like a {format} file but cannot be read: it is truncated or corrupt")
            : new ImageConversionException(DiagnosticCodes.NotAnImage, $"is not an image in a format KoalaPic reads ({FormatsRead}): its first bytes are not those of any of them, whatever its name says");
    }

    /// <summary>The binary format whose signature the bytes start with, or null. SVG is text, so it has none.</summary>
    public static string? Recognise(byte[] bytes)
    {
        bool StartsWith(int offset, params byte[] magic) =>
            bytes.Length >= offset + magic.Length && bytes.AsSpan(offset, magic.Length).SequenceEqual(magic);

        if (StartsWith(0, 0xFF, 0xD8, 0xFF))
        {
            return "JPEG";
        }

        if (StartsWith(0, 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A))
        {
            return "PNG";
        }

        if (StartsWith(0, Ascii("GIF87a")) || StartsWith(0, Ascii("GIF89a")))
        {
            return "GIF";
        }

        if (StartsWith(0, Ascii("RIFF")) && StartsWith(8, Ascii("WEBP")))
        {
            return "WebP";
        }

        if (StartsWith(0, 0x49, 0x49, 0x2A, 0x00) || StartsWith(0, 0x4D, 0x4D, 0x00, 0x2A))
        {
            return "TIFF";
        }

        if (StartsWith(4, Ascii("ftypavif")) || StartsWith(4, Ascii("ftypavis")))
        {
            return "AVIF";
        }

        return null;
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);
}
