using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace KoalaPic.Build.Engine;

/// <summary>
/// Image budgets: an output larger than its item's MaxBytes (KP5003), and the job's outputs together larger than
/// KoalaPicMaxTotalBytes (KP5004). Both are warnings, which a team makes fatal with MSBuild's own WarningsAsErrors.
/// </summary>
public static class Budgets
{
    public static bool IsOver(ItemResult result) =>
        result.Succeeded && result.Request.MaxBytes is long budget && result.OutputBytes > budget;

    /// <summary>The bytes the job's total budget counts: every output the build delivers.</summary>
    public static long Total(IEnumerable<ItemResult> kept) => kept.Where(r => r.Succeeded).Sum(r => r.OutputBytes);

    /// <summary>
    /// KP5003, one per item definition, as metadata errors are grouped (<see cref="ItemDiagnostics.Group"/>): the
    /// outputs of <c>&lt;KoalaImage Include="img/*.jpg" MaxBytes="150KB" /&gt;</c> over their budget give one warning
    /// that names the items, counts the outputs and shows the first few with their sizes. It points at the project
    /// file, where the budget is set.
    /// </summary>
    /// <param name="definitionOf">The definition a request comes from: requests with the same value are grouped.</param>
    public static IReadOnlyList<Diagnostic> OverItemBudgets(IReadOnlyList<ItemResult> kept, Func<ImageRequest, string> definitionOf, string projectFile)
    {
        var groups = new List<List<ItemResult>>();
        var byDefinition = new Dictionary<string, List<ItemResult>>(StringComparer.Ordinal);
        foreach (ItemResult result in kept.Where(IsOver))
        {
            string definition = definitionOf(result.Request);
            if (!byDefinition.TryGetValue(definition, out List<ItemResult>? group))
            {
                byDefinition[definition] = group = new List<ItemResult>();
                groups.Add(group);
            }

            group.Add(result);
        }

        return groups.Select(g => Diagnostic.Warning(DiagnosticCodes.OutputOverBudget, OverItemBudgetMessage(g), projectFile)).ToList();
    }

    private static string OverItemBudgetMessage(List<ItemResult> over)
    {
        const string advice = "Lower Quality or Width, try SmartQuality or a lighter Format (avif, webp), or raise MaxBytes.";
        ItemResult first = over[0];
        string budget = ByteSize.Precise(first.Request.MaxBytes!.Value);
        if (over.Count == 1)
        {
            return $"KoalaImage '{first.Request.ItemSpec}': the {ImageFormats.Name(first.Request.Options.Format)} output '{first.Request.OutputPath}' is {ByteSize.Precise(first.OutputBytes)}, over its MaxBytes budget of {budget}. {advice}";
        }

        var items = over.Select(r => r.Request.ItemSpec).Distinct(StringComparer.Ordinal).ToList();
        string who = items.Count == 1 ? $"KoalaImage '{items[0]}'" : "KoalaImage items " + ItemDiagnostics.Names(items);
        return string.Format(
            CultureInfo.InvariantCulture,
            "{0}: {1:N0} outputs are over their MaxBytes budget of {2} ({3}). {4}",
            who,
            over.Count,
            budget,
            Shown(over),
            advice);
    }

    /// <summary>KP5004 when the delivered outputs together are larger than KoalaPicMaxTotalBytes, naming the biggest with their items.</summary>
    public static Diagnostic? OverTotal(IReadOnlyList<ItemResult> kept, long? maxTotal, string projectFile)
    {
        long total = Total(kept);
        if (maxTotal is not long max || total <= max)
        {
            return null;
        }

        var biggest = kept.Where(r => r.Succeeded).OrderByDescending(r => r.OutputBytes).ThenBy(r => r.Request.OutputPath, StringComparer.Ordinal).ToList();
        return Diagnostic.Warning(
            DiagnosticCodes.JobOverBudget,
            string.Format(
                CultureInfo.InvariantCulture,
                "KoalaPic: the {0:N0} outputs total {1}, over {2} of {3}. The biggest: {4}. Lower Quality or Widths, set MaxBytes on the heaviest items, or raise {2}.",
                biggest.Count,
                ByteSize.Precise(total),
                JobSettings.MaxTotalBytes,
                ByteSize.Precise(max),
                string.Join(", ", biggest.Take(ItemDiagnostics.NamesShown).Select(r => $"'{r.Request.OutputPath}' {BatchLog.FormatBytes(r.OutputBytes)} (KoalaImage '{r.Request.ItemSpec}')"))),
            projectFile);
    }

    /// <summary><c>img/a.webp: 163 KB (162,845 bytes), …, and 4 more</c>.</summary>
    private static string Shown(List<ItemResult> over)
    {
        string shown = string.Join(", ", over.Take(ItemDiagnostics.NamesShown).Select(r => r.Request.OutputPath + ": " + ByteSize.Precise(r.OutputBytes)));
        return over.Count > ItemDiagnostics.NamesShown
            ? shown + string.Format(CultureInfo.InvariantCulture, " and {0:N0} more", over.Count - ItemDiagnostics.NamesShown)
            : shown;
    }
}
