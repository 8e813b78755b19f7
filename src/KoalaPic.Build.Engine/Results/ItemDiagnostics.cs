using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace KoalaPic.Build.Engine;

/// <summary>Diagnostics about items as a whole: metadata problems shared by many items, and outputs larger than their sources.</summary>
public static class ItemDiagnostics
{
    internal const int NamesShown = 3;

    /// <summary>
    /// One diagnostic per item definition rather than per file: <c>&lt;KoalaImage Include="img/*.png" Quality="abc" /&gt;</c>
    /// over 50 files gives one error that names a few of them and counts the rest. Diagnostics are grouped when they
    /// differ only in the item they name; order is kept (each group where its first member was).
    /// </summary>
    public static IReadOnlyList<Diagnostic> Group(IReadOnlyList<(string ItemSpec, Diagnostic Diagnostic)> perItem)
    {
        var groups = new List<(string Key, Diagnostic First, List<string> Items)>();
        var byKey = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (itemSpec, diagnostic) in perItem)
        {
            string prefix = Prefix(itemSpec);
            if (!diagnostic.Message.StartsWith(prefix, StringComparison.Ordinal))
            {
                groups.Add(("", diagnostic, new List<string>()));
                continue;
            }

            string key = diagnostic.Code + "\n" + diagnostic.Severity + "\n" + diagnostic.File + "\n" + diagnostic.Message.Substring(prefix.Length);
            if (byKey.TryGetValue(key, out int index))
            {
                groups[index].Items.Add(itemSpec);
            }
            else
            {
                byKey[key] = groups.Count;
                groups.Add((key, diagnostic, new List<string> { itemSpec }));
            }
        }

        return groups.Select(g => g.Items.Count <= 1 ? g.First : g.First with
        {
            Message = "KoalaImage items " + Names(g.Items) + ": " + g.First.Message.Substring(Prefix(g.Items[0]).Length),
        }).ToList();
    }

    private static string Prefix(string itemSpec) => "KoalaImage '" + itemSpec + "': ";

    /// <summary><c>'a.png', 'b.png', 'c.png' and 47 more</c>.</summary>
    internal static string Names(IReadOnlyList<string> items)
    {
        string shown = string.Join(", ", items.Take(NamesShown).Select(i => "'" + i + "'"));
        return items.Count > NamesShown
            ? shown + string.Format(CultureInfo.InvariantCulture, " and {0} more", items.Count - NamesShown)
            : shown;
    }

    /// <summary>
    /// KP2013 when an image in a format meant to be small came out larger than its source: usually a source that was
    /// already well compressed, re-encoded at a higher quality or in a heavier format. Formats that are larger by
    /// nature (<see cref="FormatDescriptor.WarnsWhenLargerThanSource"/>) and SVG sources drawn as pixels are not warned about.
    /// </summary>
    public static Diagnostic? LargerThanSource(ItemResult result) =>
        !IsLargerThanSource(result)
            ? null
            : Diagnostic.Warning(
                DiagnosticCodes.OutputLargerThanSource,
                string.Format(
                    CultureInfo.InvariantCulture,
                    "KoalaImage '{0}': the {1} output '{2}' is larger than its source ({3} > {4}): the source was better compressed. Lower Quality, try SmartQuality or another Format, or keep the source as it is.",
                    result.Request.ItemSpec,
                    ImageFormats.Name(result.Request.Options.Format),
                    result.Request.OutputPath,
                    BatchLog.FormatBytes(result.OutputBytes),
                    BatchLog.FormatBytes(result.SourceBytes)),
                result.Request.Url == null ? result.Request.SourcePath : result.Request.Url.DeclaredIn);

    public static bool IsLargerThanSource(ItemResult result) =>
        result.Succeeded && result.SourceBytes > 0 && result.OutputBytes > result.SourceBytes
        && ImageFormats.Of(result.Request.Options.Format).WarnsWhenLargerThanSource
        && !IsVectorSource(result.Request);

    /// <summary>An SVG drawn as pixels is no smaller version of itself: its size says nothing about compression.</summary>
    private static bool IsVectorSource(ImageRequest request) =>
        Path.GetExtension(request.ItemSpec).Equals(".svg", StringComparison.OrdinalIgnoreCase)
        || Path.GetExtension(request.ItemSpec).Equals(".svgz", StringComparison.OrdinalIgnoreCase);
}
