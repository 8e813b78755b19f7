using System.Globalization;
using KoalaPic.Build.Engine;
using Xunit;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>The log lines: exact text, since users and CI logs read them.</summary>
public class BatchLogTests
{
    private static ItemResult Item(string name, ItemOutcome outcome, long sourceBytes, long outputBytes, Diagnostic? diagnostic = null)
    {
        var request = new ImageRequest("img/" + name + ".png", "/p/img/" + name + ".png", "img/" + name + ".webp", new ConversionOptions(ImageFormat.Webp, 85, null, null));
        return new ItemResult(request, outcome == ItemOutcome.Failed ? "" : "/out/img/" + name + ".webp", outcome, sourceBytes, outputBytes, diagnostic);
    }

    [Fact]
    public void SummaryLine_TwoConvertedOneUpToDate_ExactText()
    {
        var result = new BatchResult(
            new[]
            {
                Item("a", ItemOutcome.Converted, 700_000, 50_000),
                Item("b", ItemOutcome.Converted, 500_000, 30_000),
                Item("c", ItemOutcome.UpToDate, 9_000_000, 1_000_000), // not counted in the bytes: not converted now
            },
            Array.Empty<string>(),
            TimeSpan.FromMilliseconds(100));

        Assert.Equal("KoalaPic: 3 images, 2 converted, 1 up to date, 1.2 MB -> 80 KB (-93%) in 0.1 s", BatchLog.SummaryLine(result));
    }

    [Fact]
    public void SummaryLine_WithFailedAndFromCache_CountsFromCacheAsUpToDateAndNamesFailures()
    {
        var result = new BatchResult(
            new[]
            {
                Item("a", ItemOutcome.Converted, 2_000, 3_000),
                Item("b", ItemOutcome.FromCache, 5_000, 1_000),
                Item("c", ItemOutcome.UpToDate, 5_000, 1_000),
                Item("d", ItemOutcome.Failed, 5_000, 0, Diagnostic.Error("KP2002", "x", null)),
            },
            Array.Empty<string>(),
            TimeSpan.FromSeconds(3.44));

        Assert.Equal("KoalaPic: 4 images, 1 converted, 2 up to date, 1 failed, 2 KB -> 3 KB (+50%) in 3.4 s", BatchLog.SummaryLine(result));
        Assert.Equal((1, 2, 1), (result.Converted, result.UpToDate, result.Failed));
    }

    [Fact]
    public void SummaryLine_NothingConverted_SaysNothingToConvert_NotZeroBytes()
    {
        var result = new BatchResult(new[] { Item("a", ItemOutcome.UpToDate, 10, 5), Item("b", ItemOutcome.FromCache, 10, 5) }, Array.Empty<string>(), TimeSpan.FromSeconds(0.12));

        Assert.Equal("KoalaPic: 2 images, 0 converted, 2 up to date, nothing to convert in 0.1 s", BatchLog.SummaryLine(result));
    }

    [Fact]
    public void SummaryLine_NothingConverted_SameWordsAsTheSkippedConverterTarget()
    {
        // A build that skips the converter target prints its summary from PrepareKoalaPicRun: a no-op build and one
        // that ran the engine and found nothing to do (dotnet publish after a build) must say the same thing.
        var result = new BatchResult(new[] { Item("a", ItemOutcome.UpToDate, 10, 5) }, Array.Empty<string>(), TimeSpan.Zero);

        Assert.Equal("KoalaPic: 1 images, 0 converted, 1 up to date, " + BatchLog.NothingToConvert + " (nothing changed since the last build)", BatchLog.SkippedSummaryLine(1));
        Assert.StartsWith("KoalaPic: 1 images, 0 converted, 1 up to date, " + BatchLog.NothingToConvert + " in ", BatchLog.SummaryLine(result));
    }

    [Fact]
    public void SummaryLine_OnlyFailures_SaysNothingConverted()
    {
        var result = new BatchResult(new[] { Item("a", ItemOutcome.Failed, 10, 0, Diagnostic.Error("KP2002", "x", null)) }, Array.Empty<string>(), TimeSpan.Zero);

        Assert.Equal("KoalaPic: 1 images, 0 converted, 0 up to date, 1 failed, nothing converted in 0.0 s", BatchLog.SummaryLine(result));
    }

    [Fact]
    public void SummaryLine_EmptyBatch_DoesNotDivideByZero()
    {
        var result = new BatchResult(Array.Empty<ItemResult>(), Array.Empty<string>(), TimeSpan.FromSeconds(0.04));

        Assert.Equal("KoalaPic: 0 images, 0 converted, 0 up to date, nothing to convert in 0.0 s", BatchLog.SummaryLine(result));
    }

    [Theory]
    [InlineData(1_000_000, 998_000, "0%")] // -0.2% rounds to zero: printed without a sign, never "-0%"
    [InlineData(1_000_000, 1_004_000, "0%")] // +0.4%
    [InlineData(1_000_000, 994_000, "-1%")]
    [InlineData(1_000_000, 2_000_000, "+100%")]
    [InlineData(1_000_000, 0, "-100%")]
    public void SummaryLine_Change_IsRoundedPercentWithSign(long before, long after, string change)
    {
        var result = new BatchResult(new[] { Item("a", ItemOutcome.Converted, before, after) }, Array.Empty<string>(), TimeSpan.Zero);

        Assert.Contains($"({change})", BatchLog.SummaryLine(result));
    }

    [Fact]
    public void SummaryLine_OtherCulture_UsesInvariantNumbers()
    {
        CultureInfo previous = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            var result = new BatchResult(new[] { Item("a", ItemOutcome.Converted, 1_500_000, 1_250_000) }, Array.Empty<string>(), TimeSpan.FromSeconds(1.25));

            Assert.Equal("KoalaPic: 1 images, 1 converted, 0 up to date, 1.5 MB -> 1.3 MB (-17%) in 1.3 s", BatchLog.SummaryLine(result));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void ProgressLine_ConvertedItem_ExactText()
    {
        ItemResult item = Item("hero", ItemOutcome.Converted, 1_234_567, 80_400);

        Assert.Equal("KoalaPic: [3/13] img/hero.png -> img/hero.webp 1.2 MB -> 80 KB", BatchLog.ProgressLine(item, 3, 13));
    }

    [Fact]
    public void ProgressLine_SmartQuality_NamesLevelAndChosenQuality()
    {
        ItemResult item = Item("hero", ItemOutcome.Converted, 1_234_567, 80_400);
        item = item with
        {
            Request = item.Request with { Options = item.Request.Options with { SmartQuality = SmartQualityLevel.High } },
            ChosenQuality = 78,
        };

        Assert.Equal("KoalaPic: [3/13] img/hero.png -> img/hero.webp 1.2 MB -> 80 KB (smart quality high: q=78)", BatchLog.ProgressLine(item, 3, 13));
    }

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1, "1 B")]
    [InlineData(999, "999 B")]
    [InlineData(1_000, "1 KB")]
    [InlineData(1_499, "1 KB")]
    [InlineData(1_500, "2 KB")]
    [InlineData(2_500, "3 KB")] // half up, not to even
    [InlineData(80_400, "80 KB")]
    [InlineData(999_499, "999 KB")]
    [InlineData(999_500, "1.0 MB")] // not "1000 KB"
    [InlineData(999_999, "1.0 MB")]
    [InlineData(1_000_000, "1.0 MB")]
    [InlineData(1_049_999, "1.0 MB")]
    [InlineData(1_050_000, "1.1 MB")]
    [InlineData(1_234_567, "1.2 MB")]
    [InlineData(999_949_999, "999.9 MB")]
    [InlineData(999_950_000, "1.0 GB")] // not "1000.0 MB"
    [InlineData(1_000_000_000, "1.0 GB")]
    [InlineData(3_400_000_000, "3.4 GB")]
    [InlineData(12_345_000_000_000, "12345.0 GB")]
    public void FormatBytes_Boundaries_DecimalUnits(long bytes, string expected)
    {
        Assert.Equal(expected, BatchLog.FormatBytes(bytes));
    }
}
