using System;
using System.Globalization;
using System.Linq;

namespace KoalaPic.Build.Engine;

/// <summary>The log lines of a batch: per-image progress and the one-line summary.</summary>
public static class BatchLog
{
    /// <summary><c>KoalaPic: [3/13] img/a.png -> img/a.webp 1.2 MB -> 80 KB</c>, plus <c>(smart quality high: q=78)</c>.</summary>
    public static string ProgressLine(ItemResult item, int done, int total)
    {
        string smart = item.ChosenQuality is int q
            ? $" (smart quality {item.Request.Options.SmartQuality.ToString().ToLowerInvariant()}: q={q.ToString(CultureInfo.InvariantCulture)})"
            : "";
        return $"KoalaPic: [{done}/{total}] {item.Request.ItemSpec} -> {item.Request.OutputPath} {FormatBytes(item.SourceBytes)} -> {FormatBytes(item.OutputBytes)}{smart}";
    }

    /// <summary>
    /// <c>KoalaPic: 13 images, 2 converted, 11 up to date, 14.2 MB -> 3.1 MB (-78%) in 3.4 s</c>; the bytes are those of
    /// the converted images; " (N from the remote cache)" follows "up to date" when some came from KoalaPicRemoteCache,
    /// ", N failed" follows the counts when any failed. With nothing converted there are no bytes
    /// to compare: <c>KoalaPic: 13 images, 0 converted, 13 up to date, nothing to convert in 0.1 s</c> (a build that
    /// skips the converter prints the same words, <see cref="SkippedSummaryLine"/>), or ", nothing converted" after failures.
    /// </summary>
    public static string SummaryLine(BatchResult result)
    {
        var converted = result.Items.Where(i => i.Outcome == ItemOutcome.Converted).ToList();
        long before = converted.Sum(i => i.SourceBytes);
        long after = converted.Sum(i => i.OutputBytes);
        string failed = result.Failed > 0 ? $", {result.Failed} failed" : "";
        string remote = result.FromRemoteCache > 0 ? $" ({result.FromRemoteCache} from the remote cache)" : "";
        string seconds = result.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
        string bytes = converted.Count > 0 ? $"{FormatBytes(before)} -> {FormatBytes(after)} ({FormatChange(before, after)})"
            : result.Failed > 0 ? "nothing converted"
            : NothingToConvert;
        return $"KoalaPic: {result.Items.Count} images, {result.Converted} converted, {result.UpToDate} up to date{remote}{failed}, {bytes} in {seconds} s";
    }

    /// <summary>What the summary says when every image was up to date.</summary>
    public const string NothingToConvert = "nothing to convert";

    /// <summary>
    /// The summary of a build that skipped the converter (nothing changed since the last run), with the last run's
    /// image count: the same words as <see cref="SummaryLine"/> when it finds every image up to date.
    /// </summary>
    public static string SkippedSummaryLine(int imageCount) =>
        $"KoalaPic: {imageCount} images, 0 converted, {imageCount} up to date, {NothingToConvert} (nothing changed since the last build)";

    /// <summary>Decimal units, as file managers show them: 999 B, 80 KB, 1.2 MB, 3.4 GB.</summary>
    public static string FormatBytes(long bytes)
    {
        if (bytes < 1000)
        {
            return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        }

        // The unit changes where the rounded value would reach 1000 (999,500 B is "1.0 MB", not "1000 KB").
        if (bytes < 999_500)
        {
            return Math.Round(bytes / 1000.0, MidpointRounding.AwayFromZero).ToString("0", CultureInfo.InvariantCulture) + " KB";
        }

        if (bytes < 999_950_000)
        {
            return (bytes / 1_000_000.0).ToString("0.0", CultureInfo.InvariantCulture) + " MB";
        }

        return (bytes / 1_000_000_000.0).ToString("0.0", CultureInfo.InvariantCulture) + " GB";
    }

    /// <summary>
    /// Two sizes for a message that compares them, precise enough that they differ when the bytes do: as
    /// <see cref="FormatBytes"/> when that tells them apart (<c>80 KB</c>, <c>75 KB</c>), else with one decimal more
    /// (<c>7.3 KB</c>, <c>7.1 KB</c>), else in bytes (<c>7,312 B</c>, <c>7,301 B</c>).
    /// </summary>
    public static (string First, string Second) FormatBytesApart(long first, long second)
    {
        string a = FormatBytes(first), b = FormatBytes(second);
        if (a != b || first == second)
        {
            return (a, b);
        }

        if (a.EndsWith(" KB", StringComparison.Ordinal))
        {
            a = (first / 1000.0).ToString("0.0", CultureInfo.InvariantCulture) + " KB";
            b = (second / 1000.0).ToString("0.0", CultureInfo.InvariantCulture) + " KB";
            if (a != b)
            {
                return (a, b);
            }
        }

        return (first.ToString("N0", CultureInfo.InvariantCulture) + " B", second.ToString("N0", CultureInfo.InvariantCulture) + " B");
    }

    private static string FormatChange(long before, long after)
    {
        if (before == 0)
        {
            return "0%";
        }

        double percent = Math.Round((after - before) * 100.0 / before);
        if (percent == 0)
        {
            // A change under 0.5% rounds to negative zero when smaller, which .NET Core prints as "-0".
            return "0%";
        }

        return (percent > 0 ? "+" : "") + percent.ToString("0", CultureInfo.InvariantCulture) + "%";
    }
}
