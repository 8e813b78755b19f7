using KoalaPic.Build.Engine;
using Xunit;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>Image budgets: MaxBytes and KoalaPicMaxTotalBytes are parsed, checked and reported as KP5003/KP5004.</summary>
public class BudgetTests
{
    private const string ProjectFile = "/p/p.csproj";

    [Theory]
    [InlineData("150000", 150_000L)]
    [InlineData("150KB", 150_000L)]
    [InlineData("150 kb", 150_000L)]
    [InlineData("1.5MB", 1_500_000L)]
    [InlineData("2GB", 2_000_000_000L)]
    [InlineData("512B", 512L)]
    [InlineData("0.5KB", 500L)]
    public void ByteSize_ReadsDecimalUnits(string text, long expected)
    {
        Assert.True(ByteSize.TryParse(text, out long bytes), text);
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("KB")]
    [InlineData("0")]
    [InlineData("-5KB")]
    [InlineData("1.5B")]
    [InlineData("150KiB")]
    [InlineData("1,5MB")]
    [InlineData("1e3")]
    [InlineData("99999999999999999999GB")]
    [InlineData("150 KB extra")]
    public void ByteSize_RefusesWhatIsNoSize(string text)
    {
        Assert.False(ByteSize.TryParse(text, out _), text);
    }

    [Fact]
    public void Precise_ShowsTheRoundedSizeAndTheExactBytes()
    {
        Assert.Equal("163 KB (162,845 bytes)", ByteSize.Precise(162_845));
        Assert.Equal("999 bytes", ByteSize.Precise(999));
    }

    [Fact]
    public void MaxBytes_IsReadIntoTheRequest_AndAnInvalidValueIsKP1019()
    {
        Assert.Equal(150_000L, Request("img/a.png", "webp", "150KB").MaxBytes);
        Assert.Null(Request("img/a.png", "webp", "").MaxBytes);

        var diagnostics = new List<Diagnostic>();
        Assert.Null(ImageRequest.TryCreate("img/a.png", "/p/img/a.png", "/p", n => n == "MaxBytes" ? "lots" : "", ProjectFile, diagnostics));
        Diagnostic d = Assert.Single(diagnostics);
        Assert.Equal("KP1019", d.Code);
        Assert.Equal($"KoalaImage 'img/a.png': MaxBytes=\"lots\" is not valid. Accepted values: {ByteSize.AcceptedValues}.", d.Message);
    }

    [Fact]
    public void MaxBytes_DoesNotChangeTheCacheKey()
    {
        Assert.Equal(Request("img/a.png", "webp", "").Options.CacheKeyText, Request("img/a.png", "webp", "150KB").Options.CacheKeyText);
        Assert.False(ItemMetadata.MaxBytes.CacheKey.InKey);
    }

    [Fact]
    public void MaxTotalBytes_IsASize_AndAnInvalidValueIsKP1101()
    {
        var diagnostics = new List<Diagnostic>();
        Assert.Equal(2_000_000L, JobSettings.Parse(new Dictionary<string, string> { ["KoalaPicMaxTotalBytes"] = "2MB" }, ProjectFile, diagnostics).TotalByteLimit);
        Assert.Null(JobSettings.Parse(new Dictionary<string, string>(), ProjectFile, diagnostics).TotalByteLimit);
        Assert.Empty(diagnostics);

        Assert.Null(JobSettings.Parse(new Dictionary<string, string> { ["KoalaPicMaxTotalBytes"] = "2 megs" }, ProjectFile, diagnostics).TotalByteLimit);
        Diagnostic d = Assert.Single(diagnostics);
        Assert.Equal("KP1101", d.Code);
        Assert.StartsWith("KoalaPicMaxTotalBytes=\"2 megs\" is not valid. Accepted values: a size such as 150KB", d.Message);
    }

    [Fact]
    public void AnOutputOverItsBudget_IsOneKP5003_NamingTheOutputItsSizeTheBudgetAndTheItem()
    {
        ItemResult over = Result(Request("img/hero.jpg", "webp", "150KB"), 162_845);
        ItemResult within = Result(Request("img/small.jpg", "webp", "150KB"), 150_000);

        Diagnostic d = Assert.Single(Budgets.OverItemBudgets(new[] { over, within }, _ => null, ProjectFile));

        Assert.Equal("KP5003", d.Code);
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.Equal(ProjectFile, d.File);
        Assert.StartsWith("KoalaImage 'img/hero.jpg': the webp output 'img/hero.webp' is 163 KB (162,845 bytes), over its MaxBytes budget of 150 KB (150,000 bytes).", d.Message);
        Assert.True(Budgets.IsOver(over));
        Assert.False(Budgets.IsOver(within));
    }

    [Fact]
    public void OutputsOverBudget_AreGroupedPerDefinition_AtItsElement()
    {
        var pattern = new DeclaredPatterns.Definition("img/*.jpg", new SourceLocation(ProjectFile, 12, 5));
        var results = Enumerable.Range(1, 5).Select(i => Result(Request($"img/{i}.jpg", "webp", "10KB"), 20_000 + i))
            .Append(Result(Request("logo.png", "png", "1KB"), 5000))
            .ToList();

        var warnings = Budgets.OverItemBudgets(results, spec => spec.StartsWith("img/", StringComparison.Ordinal) ? pattern : null, ProjectFile);

        Assert.Equal(2, warnings.Count);
        Assert.Equal(
            "5 outputs of KoalaImage Include=\"img/*.jpg\" are over their MaxBytes budget of 10 KB (10,000 bytes) (img/1.webp: 20 KB (20,001 bytes), img/2.webp: 20 KB (20,002 bytes), img/3.webp: 20 KB (20,003 bytes) and 2 more). Lower Quality or Width, try SmartQuality or a lighter Format (avif, webp), or raise MaxBytes.",
            warnings[0].Message);
        Assert.Equal(12, warnings[0].Line);
        Assert.StartsWith("KoalaImage 'logo.png': the png output 'logo.png' is 5 KB (5,000 bytes), over its MaxBytes budget of 1 KB (1,000 bytes).", warnings[1].Message);
        Assert.Null(warnings[1].Line);
    }

    [Fact]
    public void ItemsOfOneDefinitionWithTheirOwnBudgets_ShowEachBudget()
    {
        var pattern = new DeclaredPatterns.Definition("img/*.jpg", new SourceLocation(ProjectFile, 3, 5));
        var results = new[] { Result(Request("img/a.jpg", "webp", "10KB"), 20_000), Result(Request("img/b.jpg", "webp", "15KB"), 20_000) };

        Diagnostic d = Assert.Single(Budgets.OverItemBudgets(results, _ => pattern, ProjectFile));

        Assert.StartsWith("2 outputs of KoalaImage Include=\"img/*.jpg\" are over their MaxBytes budgets (img/a.webp: 20 KB (20,000 bytes) > 10 KB (10,000 bytes), img/b.webp: 20 KB (20,000 bytes) > 15 KB (15,000 bytes)).", d.Message);
    }

    [Fact]
    public void AJobOverItsTotal_IsOneKP5004_NamingTheBiggestOutputsAndTheirItems()
    {
        var results = new[]
        {
            Result(Request("img/a.jpg", "avif", ""), 700_000),
            Result(Request("img/b.jpg", "avif", ""), 900_000),
            Result(Request("img/c.jpg", "avif", ""), 500_000),
            Result(Request("img/d.jpg", "avif", ""), 100_000),
        };

        Assert.Null(Budgets.OverTotal(results, null, ProjectFile));
        Assert.Null(Budgets.OverTotal(results, 2_200_000, ProjectFile));
        Diagnostic d = Budgets.OverTotal(results, 2_000_000, ProjectFile)!;

        Assert.Equal("KP5004", d.Code);
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.Equal(
            "KoalaPic: the 4 outputs total 2.2 MB (2,200,000 bytes), over KoalaPicMaxTotalBytes of 2.0 MB (2,000,000 bytes). The biggest: 'img/b.avif' 900 KB (KoalaImage 'img/b.jpg'), 'img/a.avif' 700 KB (KoalaImage 'img/a.jpg'), 'img/c.avif' 500 KB (KoalaImage 'img/c.jpg'). Lower Quality or Widths, set MaxBytes on the heaviest items, or raise KoalaPicMaxTotalBytes.",
            d.Message);
    }

    [Fact]
    public void Report_CarriesTheBudgets()
    {
        ItemResult over = Result(Request("img/hero.jpg", "webp", "150KB"), 162_845);
        JobReport report = JobReport.Create(ProjectFile, new[] { JobReport.Item(over) }, TimeSpan.Zero, totalBytes: 162_845, maxTotalBytes: 100_000);

        Assert.Equal(150_000L, report.Items[0].MaxBytes);
        Assert.True(report.Items[0].OverBudget);
        Assert.Equal(162_845L, report.TotalBytes);
        Assert.Equal(100_000L, report.MaxTotalBytes);
        Assert.True(report.OverTotalBudget);
        Assert.False(JobReport.Create(ProjectFile, new[] { JobReport.Item(over) }, TimeSpan.Zero, totalBytes: 162_845).OverTotalBudget);
    }

    internal static ImageRequest Request(string itemSpec, string format, string maxBytes)
    {
        var diagnostics = new List<Diagnostic>();
        ImageRequest? request = ImageRequest.TryCreate(itemSpec, Path.IsPathRooted(itemSpec) ? itemSpec : "/p/" + itemSpec, "/p", n => n switch { "Format" => format, "MaxBytes" => maxBytes, _ => "" }, ProjectFile, diagnostics);
        Assert.True(request != null, string.Join("; ", diagnostics.Select(d => d.Message)));
        return request!;
    }

    internal static ItemResult Result(ImageRequest request, long outputBytes, ItemOutcome outcome = ItemOutcome.Converted, long sourceBytes = 1_000_000) =>
        new(request, "/p/obj/koalapic/out/" + request.OutputPath, outcome, sourceBytes, outputBytes, null);
}
