using System;
using System.IO;
using NetVips;

namespace KoalaPic.Build.Engine;

/// <summary>
/// A raster source's width as the converter will see it, read from its header only: libvips opens images lazily,
/// so no pixel is decoded. Used to leave out <c>Widths</c> variants the source is too narrow for before converting them.
/// </summary>
internal static class SourceHeader
{
    /// <summary>Enough for any HEIF 'ftyp' box, which tells HEIC (converted by ImageMagick) from AVIF.</summary>
    private const int FtypBytes = 4096;

    /// <summary>
    /// The width after EXIF orientation of a local raster image, or null whenever the conversion could end otherwise
    /// than by shrinking it: not a regular file, over <paramref name="maxBytes"/> or <paramref name="maxPixels"/>,
    /// SVG (drawn at any width) or HEIC (read by ImageMagick), an unknown format or a header libvips cannot read.
    /// The conversion then reports whatever is wrong with it, as for any other source.
    /// </summary>
    /// <exception cref="EngineLoadException">libvips cannot be loaded.</exception>
    public static int? OrientedWidth(string path, long maxBytes, long maxPixels)
    {
        try
        {
            SourceFile.CheckRegular(path);
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FtypBytes);
            if (!stream.CanSeek || stream.Length == 0 || stream.Length > maxBytes || IsHeic(stream))
            {
                return null;
            }

            VipsRuntime.EnsureInitialized();
            string? loader = Image.FindLoadStream(stream);
            stream.Position = 0;
            if (loader == null || loader.StartsWith("VipsForeignLoadSvg", StringComparison.Ordinal)
                || !loader.EndsWith("Source", StringComparison.Ordinal)
                || !ImageConverter.AllowedLoaders.ContainsKey(loader.Substring(0, loader.Length - "Source".Length)))
            {
                return null;
            }

            using Image header = Image.NewFromStream(stream, access: Enums.Access.Sequential, failOn: Enums.FailOn.Error);
            var (width, height) = ImageConverter.OrientedSize(header);
            int pages = header.Contains("n-pages") ? Math.Max(1, (int)header.Get("n-pages")) : 1;
            return width > 0 && (long)width * height * pages <= maxPixels ? width : null;
        }
        catch (Exception ex) when (ex is VipsException or IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or InvalidCastException)
        {
            return null;
        }
    }

    private static bool IsHeic(FileStream stream)
    {
        var head = new byte[Math.Min(stream.Length, FtypBytes)];
        int read = 0;
        int n;
        while (read < head.Length && (n = stream.Read(head, read, head.Length - read)) > 0)
        {
            read += n;
        }

        stream.Position = 0;
        return HeifBrands.IsHeic(head);
    }
}
