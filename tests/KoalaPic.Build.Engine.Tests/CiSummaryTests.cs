using KoalaPic.Build.Engine;
using Xunit;
using static KoalaPic.Build.Engine.Tests.BudgetTests;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>The Markdown appended to GITHUB_STEP_SUMMARY and KoalaPicSummaryPath, made from the job report.</summary>
public class CiSummaryTests
{
    private const string ProjectDirectory = "/p";

    private static JobReport Report(IEnumerable<JobReportItem> items, long? maxTotal = null)
    {
        var list = items.ToList();
        long total = list.Where(i => i.Status != ItemStatus.Failed).Sum(i => i.BytesOut);
        return JobReport.Create(ProjectDirectory + "/Site.csproj", list, TimeSpan.Zero, totalBytes: total, maxTotalBytes: maxTotal);
    }

    private static JobReportItem Item(string itemSpec, string format, long bytesOut, ItemOutcome outcome = ItemOutcome.Converted, string maxBytes = "") =>
        JobReport.Item(Result(Request(itemSpec, format, maxBytes), bytesOut, outcome, sourceBytes: 100_000));

    [Fact]
    public void Table_CountsImagesBytesSavingConversionsAndCacheHits_LocalAndRemote()
    {
        JobReportItem remote = Item("img/r.jpg", "webp", 10_000, ItemOutcome.FromCache);
        remote.Status = ItemStatus.FromRemoteCache;
        JobReportItem failed = JobReport.Invalid("img/bad.jpg", ProjectDirectory + "/img/bad.jpg", "webp", Diagnostic.Error("KP2002", "KoalaImage 'img/bad.jpg': cannot decode '/p/img/bad.jpg'", null));
        var report = Report(new[]
        {
            Item("img/a.jpg", "webp", 20_000),
            Item("img/b.jpg", "webp", 30_000, ItemOutcome.FromCache),
            Item("img/c.jpg", "webp", 40_000, ItemOutcome.UpToDate),
            remote,
            failed,
        });

        string markdown = CiSummary.Markdown(report, ProjectDirectory);

        string[] lines = markdown.Split('\n');
        Assert.Contains("### KoalaPic: Site.csproj", lines);
        Assert.Contains("| Images | Sources | Outputs | Saving | Converted | Local cache hits | Remote cache hits | Up to date | Failed |", lines);
        Assert.Contains("| 5 | 400 KB | 100 KB | 75% | 1 | 1 | 1 | 1 | 1 |", lines);
        Assert.DoesNotContain("/p/", markdown);
        Assert.DoesNotContain("over its", markdown);
    }

    [Fact]
    public void OutputsOverBudget_ComeBeforeTheBiggest_WhichAreAtMostTwenty()
    {
        var items = Enumerable.Range(1, 25).Select(i => Item($"img/p{i:00}.jpg", "avif", 1000 * i)).ToList();
        items.Add(Item("img/hero.jpg", "webp", 162_845, maxBytes: "150KB"));

        string markdown = CiSummary.Markdown(Report(items, maxTotal: 400_000), ProjectDirectory);

        Assert.Contains("**Over budget:** 488 KB of 400 KB (`KoalaPicMaxTotalBytes`).", markdown);
        Assert.Contains("**1 output over its `MaxBytes`**", markdown);
        Assert.Contains("| img/hero.webp | 163 KB | 150 KB | img/hero.jpg |", markdown);
        Assert.True(markdown.IndexOf("over its `MaxBytes`", StringComparison.Ordinal) < markdown.IndexOf("biggest outputs", StringComparison.Ordinal));
        Assert.Contains("<details><summary>The 20 biggest outputs</summary>", markdown);
        string biggest = markdown.Substring(markdown.IndexOf("<details>", StringComparison.Ordinal));
        Assert.Equal(20, biggest.Split('\n').Count(l => l.StartsWith("| img/", StringComparison.Ordinal)));
        Assert.Contains("| img/hero.webp | webp | 163 KB | img/hero.jpg |", biggest);
        Assert.Contains("| img/p25.avif |", biggest);
        Assert.DoesNotContain("| img/p06.avif |", biggest); // the 6 smallest of 26 are left out
        Assert.True(markdown.Split('\n').Length < 50, "short enough to read in a pull request");
    }

    [Fact]
    public void WithinTheTotal_SaysSo()
    {
        string markdown = CiSummary.Markdown(Report(new[] { Item("img/a.jpg", "webp", 20_000) }, maxTotal: 1_000_000), ProjectDirectory);

        Assert.Contains("Within budget: 20 KB of 1.0 MB (`KoalaPicMaxTotalBytes`).", markdown);
        Assert.DoesNotContain("Over budget", markdown);
    }

    [Fact]
    public void HostileNames_StayInTheirCell_AndNoPathOutsideTheProjectIsShown()
    {
        var items = new[]
        {
            Item("img/a|b`c*_[x](http://e.example)<script>.png", "webp", 20_000),
            Item("img/line\nbreak.png", "webp", 10_000),
            Item("/home/someone/secret-folder/outside.png", "webp", 5_000),
            Item(ProjectDirectory + "/img/inside.png", "webp", 4_000),
        };

        string markdown = CiSummary.Markdown(Report(items), ProjectDirectory);

        // The output path has one spelling per file ('//' is '/'); the item is shown as written.
        Assert.Contains(@"| img/a\|b\`c\*\_\[x\]\(http:/e.example\)&lt;script&gt;.webp | webp | 20 KB | img/a\|b\`c\*\_\[x\]\(http://e.example\)&lt;script&gt;.png |", markdown);
        Assert.Contains(@"| img/line\\u000abreak.webp |", markdown);
        Assert.Contains("| outside.webp | webp | 5 KB | outside.png |", markdown);
        Assert.Contains("| img/inside.png |", markdown);
        Assert.DoesNotContain("/home/", markdown);
        Assert.DoesNotContain("/p/", markdown);
        Assert.DoesNotContain("<script>", markdown);
        string biggest = markdown.Substring(markdown.IndexOf("<details>", StringComparison.Ordinal));
        Assert.All(biggest.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal)), row => Assert.Equal(5, UnescapedPipes(row)));
    }

    [Fact]
    public void Append_AddsToTheFile_AndCreatesItsFolder()
    {
        string folder = Directory.CreateTempSubdirectory("koalapic-summary-").FullName;
        try
        {
            string path = Path.Combine(folder, "sub", "summary.md");
            CiSummary.Append(path, "one\n"u8.ToArray());
            CiSummary.Append(path, "two\n"u8.ToArray());
            Assert.Equal("one\ntwo\n", File.ReadAllText(path));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static int UnescapedPipes(string row)
    {
        int count = 0;
        for (int i = 0; i < row.Length; i++)
        {
            if (row[i] == '\\')
            {
                i++;
            }
            else if (row[i] == '|')
            {
                count++;
            }
        }

        return count;
    }
}
