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
    Ico,
    Bmp,
    Pdf,
    Heic,
    Svg,
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
        ["ico"] = ImageFormat.Ico,
        ["bmp"] = ImageFormat.Bmp,
        ["pdf"] = ImageFormat.Pdf,
        ["heic"] = ImageFormat.Heic,
        ["heif"] = ImageFormat.Heic,
        ["svg"] = ImageFormat.Svg,
    };

    /// <summary>The values <c>Format</c> accepts, as shown in diagnostics.</summary>
    public const string AcceptedValues = "jpg (default), png, webp, avif, gif, ico, bmp, tiff, pdf, heic, svg; aliases jpeg, tif, heif";

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
        ImageFormat.Ico => "ico",
        ImageFormat.Bmp => "bmp",
        ImageFormat.Pdf => "pdf",
        ImageFormat.Heic => "heic",
        ImageFormat.Svg => "svg",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    public static string Extension(ImageFormat format) => "." + Name(format);

    /// <summary>Whether the format stores an alpha channel; others are flattened onto the background.</summary>
    public static bool CarriesAlpha(ImageFormat format) => format is not (ImageFormat.Jpeg or ImageFormat.Bmp);

    /// <summary>Whether the format can hold an animation (all frames, delays, loop count).</summary>
    public static bool CanAnimate(ImageFormat format) => format is ImageFormat.Gif or ImageFormat.Webp;
}
