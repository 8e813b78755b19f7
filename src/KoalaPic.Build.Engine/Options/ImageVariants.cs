using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace KoalaPic.Build.Engine;

/// <summary>
/// Expands one KoalaImage item into one request per variant: every format of <c>Format="avif;webp"</c> times every
/// width of <c>Widths="480;960"</c>. Variants differ only in Format, Width and OutputPath (and Placeholder, which
/// only the first variant makes).
/// </summary>
public static class ImageVariants
{
    private static readonly char[] Separators = { ';', ',' };

    /// <summary>
    /// The requests for one item, formats in the order given and widths ascending; null when any metadata is
    /// invalid (then with diagnostics). One format and at most one width gives exactly what
    /// <see cref="ImageRequest.TryCreate"/> gives, so single-variant items are named as before.
    /// </summary>
    public static IReadOnlyList<ImageRequest>? TryCreate(
        string itemSpec,
        string sourcePath,
        string projectDirectory,
        Func<string, string> metadata,
        string projectFile,
        ICollection<Diagnostic> diagnostics)
    {
        string widthsText = metadata(ItemMetadata.Widths.Name).Trim();
        int errorsBefore = diagnostics.Count;
        IReadOnlyList<int>? widths = new MetadataReader(itemSpec, metadata, projectFile, diagnostics).FindObject(ItemMetadata.Widths);
        bool widthsValid = diagnostics.Count == errorsBefore;
        if (widths != null)
        {
            if (metadata("Width").Trim().Length > 0)
            {
                widthsValid = false;
                diagnostics.Add(Diagnostic.Error(
                    DiagnosticCodes.WidthAndWidths,
                    $"KoalaImage '{itemSpec}': both Width=\"{metadata("Width").Trim()}\" and Widths=\"{widthsText}\" are set. Use Width for one output width or Widths for several, not both.",
                    projectFile));
            }
        }

        List<string> formats = FormatNames(metadata("Format"));
        if (formats.Count == 0)
        {
            formats.Add(""); // the preset's format, or jpg
        }

        // One request per format through the ordinary parser, so every format gets its own checks and warnings
        // (Lossless on jpg, SmartQuality on png); a warning shared by all formats is reported once.
        var perFormat = new List<ImageRequest>();
        var reported = new List<Diagnostic>(); // this item's only: another item may have the same spec and messages
        bool failed = !widthsValid;

        // One Effort serves every format of the item that has an effort setting: Format="avif;jpg" Effort="2" is not
        // a mistake, so jpg's "Effort has no effect" is only said when no format of the item takes it.
        bool someFormatTakesEffort = formats.Any(f => ImageFormats.Find(f)?.Effort != null);
        foreach (string format in formats)
        {
            var formatDiagnostics = new List<Diagnostic>();
            ImageRequest? request = ImageRequest.TryCreate(
                itemSpec,
                sourcePath,
                projectDirectory,
                name => name == "Format" ? format : metadata(name),
                projectFile,
                formatDiagnostics);
            foreach (Diagnostic d in formatDiagnostics)
            {
                if (d.Code == DiagnosticCodes.EffortIgnored && someFormatTakesEffort)
                {
                    continue;
                }

                if (!reported.Any(existing => existing.Code == d.Code && existing.Message == d.Message))
                {
                    reported.Add(d);
                    diagnostics.Add(d);
                }
            }

            if (request == null)
            {
                failed = true;
            }
            else
            {
                perFormat.Add(request);
            }
        }

        if (failed)
        {
            return null;
        }

        return OnePlaceholder(widths == null ? perFormat : WithWidths(perFormat, widths));
    }

    /// <summary>The names in a Format list (<c>avif;webp</c>), in order, without repeats; not yet validated.</summary>
    internal static List<string> FormatNames(string formatList) =>
        formatList.Split(Separators, StringSplitOptions.RemoveEmptyEntries)
            .Select(f => f.Trim()).Where(f => f.Length > 0)
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    /// <summary>
    /// The manifest has one placeholder per source: only the first variant (first format, narrowest width, the
    /// cheapest to hold in memory) makes it; the others are converted as without Placeholder.
    /// </summary>
    private static IReadOnlyList<ImageRequest> OnePlaceholder(IReadOnlyList<ImageRequest> variants) =>
        variants.Select((v, i) => i == 0 || v.Placeholder == PlaceholderKind.None ? v : v with { Placeholder = PlaceholderKind.None }).ToList();

    private static List<ImageRequest> WithWidths(List<ImageRequest> perFormat, IReadOnlyList<int> widths)
    {
        var variants = new List<ImageRequest>();
        foreach (ImageRequest request in perFormat)
        {
            foreach (int width in widths)
            {
                variants.Add(request with
                {
                    Options = request.Options with { Width = width },
                    OutputPath = widths.Count > 1 ? WithWidthSuffix(request.OutputPath, width) : request.OutputPath,
                });
            }
        }

        return variants;
    }

    /// <summary><c>img/photo.webp</c> → <c>img/photo-480w.webp</c>.</summary>
    internal static string WithWidthSuffix(string outputPath, int width)
    {
        string extension = Path.GetExtension(outputPath);
        return outputPath.Substring(0, outputPath.Length - extension.Length) + "-" + width.ToString(CultureInfo.InvariantCulture) + "w" + extension;
    }

    /// <summary>
    /// The variants of one item that <see cref="SkipWiderThanSource"/> would drop once converted, known before
    /// converting from the source's width (read from its header): per format, the widths wider than the source,
    /// except the narrowest of them when no width of that format fits, so every format keeps one output.
    /// </summary>
    /// <param name="variants">One item's variants from <c>Widths</c>, as <see cref="TryCreate"/> made them.</param>
    /// <param name="sourceWidth">The source's width after EXIF orientation.</param>
    public static IReadOnlyList<ImageRequest> WiderThanSource(IReadOnlyList<ImageRequest> variants, int sourceWidth)
    {
        var dropped = new List<ImageRequest>();
        foreach (var format in variants.GroupBy(v => v.Options.Format))
        {
            var tooNarrow = format.Where(v => OnlyShrinks(v) && v.Options.Width > sourceWidth).ToList();
            dropped.AddRange(tooNarrow.Count == format.Count() ? tooNarrow.Skip(1) : tooNarrow);
        }

        return dropped;
    }

    /// <summary>
    /// A variant whose output is never wider than its source: only a width is asked, without Enlarge, and without
    /// Fit="contain" (which pads to the width asked).
    /// </summary>
    public static bool OnlyShrinks(ImageRequest request) =>
        request.Options.Width != null && request.Options.Height == null && !request.Options.Enlarge && request.Options.Fit != FitMode.Contain;

    /// <summary>
    /// Widths larger than the source are not enlarged: a variant from <c>Widths</c> that came out narrower than asked
    /// (the source is narrower) is dropped, except the narrowest such variant of each format when no variant of that
    /// format reached its width, so every format keeps one output. Returns the kept results and the dropped ones.
    /// </summary>
    public static (IReadOnlyList<ItemResult> Kept, IReadOnlyList<ItemResult> Skipped) SkipWiderThanSource(IReadOnlyList<ItemResult> results, Func<ImageRequest, bool> fromWidths)
    {
        var skippedIndexes = new HashSet<int>();
        foreach (var group in results.Select((r, i) => (Result: r, Index: i))
                     .GroupBy(x => (x.Result.Request.ItemSpec, x.Result.Request.Options.Format)))
        {
            var members = group.ToList();
            bool anyReached = members.Any(m => !TooNarrow(m.Result));
            int? keepIndex = anyReached ? null : members.Where(m => TooNarrow(m.Result)).Select(m => (int?)m.Index).FirstOrDefault();
            foreach (var m in members.Where(m => TooNarrow(m.Result) && m.Index != keepIndex))
            {
                skippedIndexes.Add(m.Index);
            }
        }

        var kept = results.Where((_, i) => !skippedIndexes.Contains(i)).ToList();
        var skipped = results.Where((_, i) => skippedIndexes.Contains(i)).ToList();
        return (kept, skipped);

        bool TooNarrow(ItemResult r) =>
            r.Succeeded && fromWidths(r.Request) && r.Width is int actual && r.Request.Options.Width is int asked
            && r.Request.Options.Height == null && !r.Request.Options.Enlarge && actual < asked;
    }
}
