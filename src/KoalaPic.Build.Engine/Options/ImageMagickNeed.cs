using System;
using System.Collections.Generic;
using System.Linq;

namespace KoalaPic.Build.Engine;

/// <summary>
/// Whether a KoalaImage item needs the native ImageMagick library, judged from its metadata and name alone (no file is
/// read), so that the build downloads Magick.NET only for projects that use it (<c>KoalaPicImageMagick=auto</c>).
/// Derived from the format descriptors: an output format ImageMagick encodes (<see cref="FormatDescriptor.EncodedByImageMagick"/>),
/// given in Format or by the OptimizeFor preset, or a source whose extension names a format ImageMagick decodes
/// (<see cref="FormatDescriptor.DecodedByImageMagick"/>). A HEIC image under another name is not recognised. Hosts ask
/// <see cref="JobItem.NeedsImageMagick"/>.
/// </summary>
public static class ImageMagickNeed
{
    /// <param name="metadata">Returns a metadata value, or an empty string when it is not set.</param>
    public static bool For(string itemSpec, Func<string, string> metadata)
    {
        if (ImageFormats.Find(SafeExtension(itemSpec)) is { DecodedByImageMagick: true })
        {
            return true;
        }

        return OutputFormats(metadata).Any(f => f.EncodedByImageMagick);
    }

    /// <summary>What makes an item need ImageMagick, for messages: <c>ico, bmp, pdf or jxl in Format, OptimizeFor=favicon, a source named .heic, .heif, .jxl or .jpeg-xl</c>.</summary>
    public static string Description { get; } = string.Join(", ", new[]
    {
        ImageFormats.NamesWhere(f => f.EncodedByImageMagick, "or") + " in Format",
        ImageFormats.Prose(Presets.All.Where(p => ImageFormats.Of(p.Format).EncodedByImageMagick).Select(p => "OptimizeFor=" + p.Name).ToList(), "or"),
        "a source named " + ImageFormats.Prose(ImageFormats.All.Where(f => f.DecodedByImageMagick).SelectMany(f => new[] { f.Name }.Concat(f.Aliases)).Select(n => "." + n).ToList(), "or"),
    }.Where(part => part.Length > 0));

    /// <summary>The formats the item's variants are written in: those Format lists, else the preset's, else the default.</summary>
    private static IEnumerable<FormatDescriptor> OutputFormats(Func<string, string> metadata)
    {
        var listed = ImageVariants.FormatNames(metadata("Format")).Select(ImageFormats.Find).Where(f => f != null).Select(f => f!).ToList();
        if (listed.Count > 0)
        {
            return listed;
        }

        return new[] { ImageFormats.Of(Presets.TryGet(metadata("OptimizeFor"), out Preset preset) ? preset.Format : ConversionOptions.Default.Format) };
    }

    /// <summary>An item spec may hold any character (it is never a path that must exist here).</summary>
    private static string SafeExtension(string itemSpec)
    {
        int slash = Math.Max(itemSpec.LastIndexOf('/'), itemSpec.LastIndexOf('\\'));
        int dot = itemSpec.LastIndexOf('.');
        return dot > slash ? itemSpec.Substring(dot) : "";
    }
}
