using System;
using System.Globalization;
using NetVips;

namespace KoalaPic.Build.Engine;

/// <summary>
/// Decodes an image taken from a shared cache, to check that it is what its entry says. A class of its own because
/// touching any NetVips type loads libvips by file name: callers run <see cref="VipsRuntime.EnsureInitialized"/> first.
/// </summary>
internal static class EntryDecoder
{
    /// <summary>
    /// Why the image is not the format at the recorded size, or null when it is: a full decode (every pixel), so a file
    /// whose header is fine but whose data is not fails too. ico, bmp, pdf and svg, which libvips does not read back, are
    /// not checked (null).
    /// </summary>
    public static string? Problem(byte[] image, ImageFormat format, OutputFacts facts)
    {
        string? loaderPart = LoaderOf(format);
        if (loaderPart == null)
        {
            return null;
        }

        try
        {
            string? loader = Image.FindLoadBuffer(image);
            if (loader == null || loader.IndexOf(loaderPart, StringComparison.OrdinalIgnoreCase) < 0)
            {
                return "is not " + ImageFormats.Name(format);
            }

            using Image decoded = Image.NewFromBuffer(image, access: Enums.Access.Sequential, failOn: Enums.FailOn.Error);
            decoded.Avg();
            int pageHeight = Frames.PageHeight(decoded);
            if (facts.Width > 0 && (decoded.Width != facts.Width || (decoded.Height != facts.Height && pageHeight != facts.Height)))
            {
                return "is " + decoded.Width.ToString(CultureInfo.InvariantCulture) + "x" + decoded.Height.ToString(CultureInfo.InvariantCulture)
                    + " but records " + facts.Width.ToString(CultureInfo.InvariantCulture) + "x" + facts.Height.ToString(CultureInfo.InvariantCulture);
            }
        }
        catch (VipsException ex)
        {
            return "does not decode as " + ImageFormats.Name(format) + ": " + ex.Message.Trim().Split('\n')[0];
        }

        return null;
    }

    /// <summary>A part of the name of the libvips loader that reads the format; null for formats libvips does not read back.</summary>
    private static string? LoaderOf(ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => "Jpeg",
        ImageFormat.Png => "Png",
        ImageFormat.Webp => "Webp",
        ImageFormat.Avif or ImageFormat.Heic => "Heif",
        ImageFormat.Gif => "Gif",
        ImageFormat.Tiff => "Tiff",
        _ => null,
    };
}
