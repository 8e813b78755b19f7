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
    public static bool For(string itemSpec, Func<string, string> metadata) =>
        For(itemSpec, metadata(ItemMetadata.Format.Name), metadata(ItemMetadata.OptimizeFor.Name));

    /// <summary>The judgement itself: from the source's name and the two metadata that choose output formats.</summary>
    private static bool For(string itemSpec, string format, string optimizeFor) =>
        ImageFormats.Find(SafeExtension(itemSpec)) is { DecodedByImageMagick: true }
        || OutputFormats(format, optimizeFor).Any(f => f.EncodedByImageMagick);

    /// <summary>Whether any of <paramref name="items"/> needs ImageMagick.</summary>
    /// <remarks>
    /// Every build asks this of every item, and 1,000 items usually share a few metadata values: each distinct
    /// combination of what <see cref="For"/> reads (the extension, Format, OptimizeFor) is judged once.
    /// </remarks>
    public static bool ForAny<T>(IEnumerable<T> items, Func<T, string> itemSpec, Func<T, string, string> metadata)
    {
        var judged = new HashSet<string>(StringComparer.Ordinal);
        foreach (T item in items)
        {
            string spec = itemSpec(item);
            string format = metadata(item, ItemMetadata.Format.Name);
            string preset = metadata(item, ItemMetadata.OptimizeFor.Name);
            if (judged.Add(SafeExtension(spec) + "\n" + format + "\n" + preset) && For(spec, format, preset))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>What makes an item need ImageMagick, for messages: <c>ico, bmp, pdf or jxl in Format, OptimizeFor=favicon, a source named .heic, .heif, .jxl or .jpeg-xl</c>.</summary>
    public static string Description { get; } = string.Join(", ", new[]
    {
        ImageFormats.NamesWhere(f => f.EncodedByImageMagick, "or") + " in Format",
        ImageFormats.Prose(Presets.All.Where(p => ImageFormats.Of(p.Format).EncodedByImageMagick).Select(p => "OptimizeFor=" + p.Name).ToList(), "or"),
        "a source named " + ImageFormats.Prose(ImageFormats.All.Where(f => f.DecodedByImageMagick).SelectMany(f => new[] { f.Name }.Concat(f.Aliases)).Select(n => "." + n).ToList(), "or"),
    }.Where(part => part.Length > 0));

    /// <summary>The formats the item's variants are written in: those Format lists, else the preset's, else the default.</summary>
    private static IEnumerable<FormatDescriptor> OutputFormats(string format, string optimizeFor)
    {
        var listed = ImageVariants.FormatNames(format).Select(ImageFormats.Find).Where(f => f != null).Select(f => f!).ToList();
        if (listed.Count > 0)
        {
            return listed;
        }

        return new[] { ImageFormats.Of(Presets.TryGet(optimizeFor, out Preset preset) ? preset.Format : ConversionOptions.Default.Format) };
    }

    /// <summary>An item spec may hold any character (it is never a path that must exist here).</summary>
    private static string SafeExtension(string itemSpec)
    {
        int slash = Math.Max(itemSpec.LastIndexOf('/'), itemSpec.LastIndexOf('\\'));
        int dot = itemSpec.LastIndexOf('.');
        return dot > slash ? itemSpec.Substring(dot) : "";
    }
}
