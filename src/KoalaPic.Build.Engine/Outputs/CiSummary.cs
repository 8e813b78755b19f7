using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace KoalaPic.Build.Engine;

/// <summary>
/// The Markdown a CI run shows (GITHUB_STEP_SUMMARY, KoalaPicSummaryPath), made from the job report alone: one table
/// of counts and bytes, the outputs over budget, then the biggest outputs. Short enough to read in a pull request.
/// It names no local path: the project by its file name, outputs by their path in the build output, items as written
/// in the project (an absolute Include by its file name), and no error text (which may hold paths).
/// </summary>
public static class CiSummary
{
    public const int BiggestShown = 20;

    public static string Markdown(JobReport report, string projectDirectory)
    {
        var items = report.Items;
        int Count(string status) => items.Count(i => i.Status == status);
        var delivered = items.Where(i => i.Status != ItemStatus.Failed && i.Output != null).ToList();

        var text = new StringBuilder();
        text.Append('\n').Append("### KoalaPic: ").Append(Cell(Path.GetFileName(report.Project))).Append("\n\n");
        text.Append("| Images | Sources | Outputs | Saving | Converted | Local cache hits | Remote cache hits | Up to date | Failed |\n");
        text.Append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        text.Append(string.Format(
            CultureInfo.InvariantCulture,
            "| {0:N0} | {1} | {2} | {3} | {4:N0} | {5:N0} | {6:N0} | {7:N0} | {8:N0} |\n",
            report.TotalFiles,
            BatchLog.FormatBytes(report.BytesIn),
            BatchLog.FormatBytes(report.BytesOut),
            Saving(report.BytesIn, report.BytesOut),
            Count(ItemStatus.Converted),
            Count(ItemStatus.FromCache),
            Count(ItemStatus.FromRemoteCache),
            Count(ItemStatus.UpToDate),
            Count(ItemStatus.Failed)));

        if (report.MaxTotalBytes is long max)
        {
            text.Append('\n').Append(report.OverTotalBudget ? "**Over budget:** " : "Within budget: ")
                .Append(BatchLog.FormatBytes(report.TotalBytes)).Append(" of ").Append(BatchLog.FormatBytes(max))
                .Append(" (`").Append(JobSettings.MaxTotalBytes).Append("`).\n");
        }

        var over = delivered.Where(i => i.OverBudget).OrderByDescending(i => i.BytesOut - (i.MaxBytes ?? 0)).ToList();
        if (over.Count > 0)
        {
            text.Append('\n').Append("**").Append(over.Count.ToString("N0", CultureInfo.InvariantCulture)).Append(over.Count == 1 ? " output" : " outputs").Append(" over its `MaxBytes`**\n\n");
            text.Append("| Output | Size | Budget | Item |\n|---|---:|---:|---|\n");
            foreach (JobReportItem item in over.Take(BiggestShown))
            {
                text.Append("| ").Append(Cell(item.Output!)).Append(" | ").Append(BatchLog.FormatBytes(item.BytesOut))
                    .Append(" | ").Append(BatchLog.FormatBytes(item.MaxBytes ?? 0)).Append(" | ").Append(Cell(ItemName(item.ItemSpec, projectDirectory))).Append(" |\n");
            }

            More(text, over.Count);
        }

        if (delivered.Count > 0)
        {
            var biggest = delivered.OrderByDescending(i => i.BytesOut).ThenBy(i => i.Output, StringComparer.Ordinal).Take(BiggestShown).ToList();
            text.Append('\n').Append("<details><summary>The ").Append(biggest.Count.ToString(CultureInfo.InvariantCulture))
                .Append(biggest.Count == 1 ? " output" : " biggest outputs").Append("</summary>\n\n");
            text.Append("| Output | Format | Size | Item |\n|---|---|---:|---|\n");
            foreach (JobReportItem item in biggest)
            {
                text.Append("| ").Append(Cell(item.Output!)).Append(" | ").Append(Cell(item.Format ?? "")).Append(" | ")
                    .Append(BatchLog.FormatBytes(item.BytesOut)).Append(" | ").Append(Cell(ItemName(item.ItemSpec, projectDirectory))).Append(" |\n");
            }

            text.Append("\n</details>\n");
        }

        return text.ToString();
    }

    /// <summary>Appends in one write, so builds of several projects sharing GITHUB_STEP_SUMMARY do not interleave their tables.</summary>
    public static void Append(string path, byte[] markdown)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        stream.Write(markdown, 0, markdown.Length);
    }

    private static void More(StringBuilder text, int count)
    {
        if (count > BiggestShown)
        {
            text.Append('\n').Append(string.Format(CultureInfo.InvariantCulture, "… and {0:N0} more (see report.json).\n", count - BiggestShown));
        }
    }

    private static string Saving(long before, long after) =>
        before <= 0 ? "-" : Math.Round((before - after) * 100.0 / before).ToString("0", CultureInfo.InvariantCulture) + "%";

    /// <summary>The item as written in the project; an absolute path by its path inside the project, or else its file name only.</summary>
    internal static string ItemName(string itemSpec, string projectDirectory)
    {
        if (!Path.IsPathRooted(itemSpec))
        {
            return itemSpec;
        }

        string root = Path.GetFullPath(projectDirectory).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar) + Path.DirectorySeparatorChar;
        string full = Path.GetFullPath(itemSpec);
        return full.StartsWith(root, StringComparison.Ordinal) ? full.Substring(root.Length).Replace('\\', '/') : Path.GetFileName(full);
    }

    /// <summary>
    /// Text as one table cell, shown as written: control characters as \uXXXX (a newline would end the table), HTML
    /// escaped, Markdown's punctuation backslash-escaped (a '|' would split the cell, a '[' start a link).
    /// </summary>
    internal static string Cell(string value)
    {
        var cell = new StringBuilder(value.Length);
        foreach (char c in ImageRequest.Printable(value))
        {
            switch (c)
            {
                case '&':
                    cell.Append("&amp;");
                    break;
                case '<':
                    cell.Append("&lt;");
                    break;
                case '>':
                    cell.Append("&gt;");
                    break;
                case '\\' or '|' or '`' or '*' or '_' or '[' or ']' or '(' or ')' or '#' or '!' or '~' or '$':
                    cell.Append('\\').Append(c);
                    break;
                default:
                    cell.Append(c);
                    break;
            }
        }

        return cell.ToString();
    }
}
