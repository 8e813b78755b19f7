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
    /// KP5003, one per item definition, as KP2013 is grouped (<see cref="ItemDiagnostics.LargerThanSource(IReadOnlyList{ItemResult}, Func{string, DeclaredPatterns.Definition?})"/>):
    /// the outputs of <c>&lt;KoalaImage Include="img/*.jpg" MaxBytes="150KB" /&gt;</c> over their budget give one
    /// warning that counts them and shows the first few with their sizes, at the KoalaImage element, where the budget is
    /// set; one output alone names its item. Outputs whose definition is unknown are grouped per item.
    /// </summary>
    /// <param name="definitionOf">The KoalaImage definition an item spec comes from, or null (<see cref="DeclaredPatterns.Locator"/>).</param>
    public static IReadOnlyList<Diagnostic> OverItemBudgets(IReadOnlyList<ItemResult> kept, Func<string, DeclaredPatterns.Definition?> definitionOf, string projectFile) =>
        ItemDiagnostics.PerDefinition(kept.Where(IsOver), definitionOf)
            .Select(g => Diagnostic.Warning(DiagnosticCodes.OutputOverBudget, OverItemBudgetMessage(g.Results, g.Definition), projectFile).At(g.Definition?.Location))
            .ToList();

    private static string OverItemBudgetMessage(List<ItemResult> over, DeclaredPatterns.Definition? definition)
    {
        const string advice = "Lower Quality or Width, try SmartQuality or a lighter Format (avif, webp), or raise MaxBytes.";
        ItemResult first = over[0];
        string budget = ByteSize.Precise(first.Request.MaxBytes!.Value);
        if (over.Count == 1)
        {
            return $"KoalaImage '{first.Request.ItemSpec}': the {ImageFormats.Name(first.Request.Options.Format)} output '{first.Request.OutputPath}' is {ByteSize.Precise(first.OutputBytes)}, over its MaxBytes budget of {budget}. {advice}";
        }

        // Items of one definition share their metadata, so one budget; a budget set per item (Update) may differ.
        bool oneBudget = over.All(r => r.Request.MaxBytes == first.Request.MaxBytes);
        string what = definition != null ? $"KoalaImage Include=\"{definition.Include}\"" : $"KoalaImage '{first.Request.ItemSpec}'";
        return string.Format(
            CultureInfo.InvariantCulture,
            "{0:N0} outputs of {1} are over their MaxBytes budget{2} ({3}). {4}",
            over.Count,
            what,
            oneBudget ? " of " + budget : "s",
            Shown(over, oneBudget),
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

    /// <summary><c>img/a.webp: 163 KB (162,845 bytes), … and 4 more</c>, each with its budget when the budgets differ.</summary>
    private static string Shown(List<ItemResult> over, bool oneBudget)
    {
        string shown = string.Join(", ", over.Take(ItemDiagnostics.NamesShown).Select(r =>
            r.Request.OutputPath + ": " + ByteSize.Precise(r.OutputBytes) + (oneBudget ? "" : " > " + ByteSize.Precise(r.Request.MaxBytes!.Value))));
        return over.Count > ItemDiagnostics.NamesShown
            ? shown + string.Format(CultureInfo.InvariantCulture, " and {0:N0} more", over.Count - ItemDiagnostics.NamesShown)
            : shown;
    }
}
