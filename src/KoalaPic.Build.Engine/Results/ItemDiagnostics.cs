using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace KoalaPic.Build.Engine;

/// <summary>Diagnostics about items as a whole: metadata problems shared by many items, and outputs larger than their sources.</summary>
public static class ItemDiagnostics
{
    private const int NamesShown = 3;

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

            string key = string.Join("\n", diagnostic.Code, diagnostic.Severity, diagnostic.File, diagnostic.Line, diagnostic.Column, diagnostic.Message.Substring(prefix.Length));
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

    private static string Names(List<string> items)
    {
        string shown = string.Join(", ", items.Take(NamesShown).Select(i => "'" + i + "'"));
        return items.Count > NamesShown
            ? shown + string.Format(CultureInfo.InvariantCulture, " and {0} more", items.Count - NamesShown)
            : shown;
    }

    /// <summary>
    /// KP2013 for the outputs larger than their sources, one per item definition: the outputs of one Include (a
    /// pattern such as <c>img/*.png</c>, or one path) give one warning that counts them and names a few, pointing at
    /// the KoalaImage element; one output alone gets <see cref="LargerThanSource(ItemResult)"/>. Outputs whose
    /// definition is unknown are grouped per item.
    /// </summary>
    /// <param name="definitionOf">The KoalaImage definition an item spec comes from, or null (<see cref="DeclaredPatterns.Locator"/>).</param>
    public static IReadOnlyList<Diagnostic> LargerThanSource(IReadOnlyList<ItemResult> results, Func<string, DeclaredPatterns.Definition?> definitionOf)
    {
        var groups = new List<(DeclaredPatterns.Definition? Definition, List<ItemResult> Results)>();
        var byKey = new Dictionary<object, int>();
        foreach (ItemResult result in results.Where(IsLargerThanSource))
        {
            DeclaredPatterns.Definition? definition = definitionOf(result.Request.ItemSpec);
            object key = (object?)definition ?? "item:" + result.Request.ItemSpec;
            if (!byKey.TryGetValue(key, out int index))
            {
                byKey[key] = index = groups.Count;
                groups.Add((definition, new List<ItemResult>()));
            }

            groups[index].Results.Add(result);
        }

        return groups.Select(g => g.Results.Count == 1 ? LargerThanSource(g.Results[0])! : LargerThanSource(g.Results, g.Definition)).ToList();
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
                    "KoalaImage '{0}': the {1} output '{2}' is larger than its source ({3}): the source was better compressed. Lower Quality, try SmartQuality or another Format, or keep the source as it is.",
                    result.Request.ItemSpec,
                    ImageFormats.Name(result.Request.Options.Format),
                    result.Request.OutputPath,
                    Sizes(result)),
                result.Request.Url == null ? result.Request.SourcePath : result.Request.Url.DeclaredIn);

    /// <summary>
    /// <c>3 outputs of KoalaImage Include="img/*.png" are larger than their sources (img/a.webp: 7.3 KB &gt; 7.1 KB,
    /// …)</c>, at the definition's element; without a definition, at the first output's source.
    /// </summary>
    private static Diagnostic LargerThanSource(List<ItemResult> results, DeclaredPatterns.Definition? definition)
    {
        string shown = string.Join(", ", results.Take(NamesShown).Select(r => r.Request.OutputPath + ": " + Sizes(r)));
        string more = results.Count > NamesShown ? string.Format(CultureInfo.InvariantCulture, ", … and {0:N0} more", results.Count - NamesShown) : "";
        string what = definition != null ? $"KoalaImage Include=\"{definition.Include}\"" : $"KoalaImage '{results[0].Request.ItemSpec}'";
        Diagnostic first = LargerThanSource(results[0])!;
        return Diagnostic.Warning(
            DiagnosticCodes.OutputLargerThanSource,
            string.Format(
                CultureInfo.InvariantCulture,
                "{0:N0} outputs of {1} are larger than their sources ({2}{3}): the sources were better compressed. Lower Quality, try SmartQuality or another Format, or keep the sources as they are.",
                results.Count,
                what,
                shown,
                more),
            first.File).At(definition?.Location);
    }

    /// <summary><c>7.3 KB &gt; 7.1 KB</c>: output, then source, told apart however close they are.</summary>
    private static string Sizes(ItemResult result)
    {
        var (output, source) = BatchLog.FormatBytesApart(result.OutputBytes, result.SourceBytes);
        return output + " > " + source;
    }

    public static bool IsLargerThanSource(ItemResult result) =>
        result.Succeeded && result.SourceBytes > 0 && result.OutputBytes > result.SourceBytes
        && ImageFormats.Of(result.Request.Options.Format).WarnsWhenLargerThanSource
        && !IsVectorSource(result.Request);

    /// <summary>An SVG drawn as pixels is no smaller version of itself: its size says nothing about compression.</summary>
    private static bool IsVectorSource(ImageRequest request) =>
        Path.GetExtension(request.ItemSpec).Equals(".svg", StringComparison.OrdinalIgnoreCase)
        || Path.GetExtension(request.ItemSpec).Equals(".svgz", StringComparison.OrdinalIgnoreCase);
}
