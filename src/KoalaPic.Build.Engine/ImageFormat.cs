using System;
using System.Collections.Generic;

namespace KoalaPic.Build.Engine;

/// <summary>An output format the engine can write.</summary>
public enum ImageFormat
{
    Jpeg,
    Png,
    Webp,
    Avif,
    Gif,
    Tiff,
}

/// <summary>Names, aliases and file extensions of <see cref="ImageFormat"/>.</summary>
public static class ImageFormats
{
    private static readonly Dictionary<string, ImageFormat> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["jpg"] = ImageFormat.Jpeg,
        ["jpeg"] = ImageFormat.Jpeg,
        ["png"] = ImageFormat.Png,
        ["webp"] = ImageFormat.Webp,
        ["avif"] = ImageFormat.Avif,
        ["gif"] = ImageFormat.Gif,
        ["tiff"] = ImageFormat.Tiff,
        ["tif"] = ImageFormat.Tiff,
    };

    /// <summary>The values <c>Format</c> accepts, as shown in diagnostics.</summary>
    public const string AcceptedValues = "jpg (default), jpeg, png, webp, avif, gif, tiff, tif";

    public static bool TryParse(string value, out ImageFormat format) => ByName.TryGetValue(value.Trim(), out format);

    /// <summary>The canonical short name, as used in cache keys and logs.</summary>
    public static string Name(ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => "jpg",
        ImageFormat.Png => "png",
        ImageFormat.Webp => "webp",
        ImageFormat.Avif => "avif",
        ImageFormat.Gif => "gif",
        ImageFormat.Tiff => "tiff",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    public static string Extension(ImageFormat format) => "." + Name(format);
}
