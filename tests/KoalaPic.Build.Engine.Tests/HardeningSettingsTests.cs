using KoalaPic.Build.Engine;
using Xunit;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>Hostile or mistaken settings: Link, Url credentials, wildcard patterns, grouped metadata errors, artifact paths.</summary>
public sealed class HardeningSettingsTests
{
    private static (ImageRequest? Request, List<Diagnostic> Diagnostics) Create(string itemSpec, params (string Name, string Value)[] metadata)
    {
        var diagnostics = new List<Diagnostic>();
        var values = metadata.ToDictionary(m => m.Name, m => m.Value);
        ImageRequest? request = ImageRequest.TryCreate(itemSpec, "/p/" + itemSpec, "/p", name => values.TryGetValue(name, out string? v) ? v : "", "/p/p.csproj", diagnostics);
        return (request, diagnostics);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("./")]
    [InlineData(".\\")]
    [InlineData("img/.")]
    [InlineData("img/")]
    [InlineData("img/./")]
    [InlineData("a\0b.webp")]
    [InlineData("img/\u0001.webp")]
    [InlineData("../up.webp")]
    [InlineData("/abs.webp")]
    public void LinkThatNamesNoFileInside_IsKP1005(string link)
    {
        var (request, diagnostics) = Create("img/a.png", ("Link", link), ("Format", "webp"));

        Assert.Null(request);
        Diagnostic error = Assert.Single(diagnostics);
        Assert.Equal(DiagnosticCodes.InvalidLink, error.Code);
        Assert.DoesNotContain('\0', error.Message);
        Assert.Contains("KoalaImage 'img/a.png'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hero.webp", "hero.webp")]
    [InlineData("./img/hero.png", "img/hero.webp")]
    [InlineData("img/./x/hero", "img/x/hero.webp")]
    public void LinkThatNamesAFile_IsAccepted(string link, string output)
    {
        var (request, diagnostics) = Create("img/a.png", ("Link", link), ("Format", "webp"));

        Assert.Empty(diagnostics);
        Assert.Equal(output, request!.OutputPath);
    }

    [Theory]
    [InlineData("https://alice:hunter2@cdn.example.com/a.png")]
    [InlineData("https://hunter2@cdn.example.com/a.png")]
    [InlineData("http://alice:hunter2@127.0.0.1:8080/a.png?x=@y")]
    public void UrlWithUserInfo_IsRefusedWithKP4011_AndTheSecretIsNeverShown(string url)
    {
        var (request, diagnostics) = Create("img/a.png", ("Url", url));

        Assert.Null(request);
        Diagnostic error = Assert.Single(diagnostics);
        Assert.Equal(DiagnosticCodes.UrlWithCredentials, error.Code);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
        Assert.Contains("***@", error.Message, StringComparison.Ordinal);

        JobReportItem line = JobReport.Invalid("img/a.png", url, "jpg", error);
        Assert.DoesNotContain("hunter2", System.Text.Encoding.UTF8.GetString(JobReport.Create("/p/p.csproj", new[] { line }, TimeSpan.Zero).ToJsonBytes()), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://a:b@h/x", "https://***@h/x")]
    [InlineData("https://h/x@y", "https://h/x@y")]
    [InlineData("img/a@2x.png", "img/a@2x.png")]
    [InlineData("https://u@h", "https://***@h")]
    public void Redact_MasksOnlyUserInfo(string text, string expected) => Assert.Equal(expected, UrlSource.Redact(text));

    [Fact]
    public void UrlAsIncludeWithCredentials_IsKP4001_WithoutTheSecret()
    {
        var (request, diagnostics) = Create("https://bob:s3cret@h/a.png");

        Assert.Null(request);
        Assert.Equal(DiagnosticCodes.UrlAsInclude, diagnostics.Single().Code);
        Assert.DoesNotContain("s3cret", diagnostics.Single().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SameInvalidValueOnManyItems_IsOneErrorNamingAFewAndCountingTheRest()
    {
        var perItem = new List<(string, Diagnostic)>();
        for (int i = 0; i < 50; i++)
        {
            string spec = $"img/{i:00}.png";
            var (_, diagnostics) = Create(spec, ("Quality", "abc"));
            perItem.AddRange(diagnostics.Select(d => (spec, d)));
        }

        var (_, other) = Create("logo.svg", ("Quality", "0"));
        perItem.AddRange(other.Select(d => ("logo.svg", d)));

        IReadOnlyList<Diagnostic> grouped = ItemDiagnostics.Group(perItem);

        Assert.Equal(2, grouped.Count);
        Assert.Equal(DiagnosticCodes.InvalidQuality, grouped[0].Code);
        Assert.StartsWith("KoalaImage items 'img/00.png', 'img/01.png', 'img/02.png' and 47 more: Quality=\"abc\" is not valid.", grouped[0].Message, StringComparison.Ordinal);
        Assert.StartsWith("KoalaImage 'logo.svg': Quality=\"0\"", grouped[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WildcardPatterns_ThatMatchNoItem_AreWarnedAbout_WithTheirFile()
    {
        using var folder = new TempFolder();
        string project = folder.Combine("App.csproj");
        File.WriteAllText(project, """
            <Project Sdk="Microsoft.NET.Sdk">
              <ItemGroup>
                <KoalaImage Include="img/*.png" Format="webp" />
                <KoalaImage Include="photos/**/*.jpg;logo.svg" />
                <KoalaImage Include="typo/*.PNG" />
                <KoalaImage Include="$(Assets)/*.png" />
                <KoalaImage Include="cond/*.png" Condition="'$(X)' == 'y'" />
              </ItemGroup>
              <ItemGroup Condition="false"><KoalaImage Include="never/*.png" /></ItemGroup>
              <Target Name="T"><ItemGroup><KoalaImage Include="late/*.png" /></ItemGroup></Target>
            </Project>
            """);

        IReadOnlyList<Diagnostic> warnings = DeclaredPatterns.Unmatched(
            new[] { project, "", folder.Combine("Directory.Build.props") },
            folder.Path,
            new[] { "img/a.png", "photos/2024/summer/b.jpg", "logo.svg" });

        Diagnostic warning = Assert.Single(warnings);
        Assert.Equal(DiagnosticCodes.PatternMatchesNothing, warning.Code);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Contains("Include=\"typo/*.PNG\"", warning.Message, StringComparison.Ordinal);
        Assert.Equal(project, warning.File);
    }

    [SkippableTheory]
    [InlineData("/p/img/*.png", "/p/img/a.png", true)]
    [InlineData("/p/img/*.png", "/p/img/sub/a.png", false)]
    [InlineData("/p/img/**/*.png", "/p/img/a.png", true)]
    [InlineData("/p/img/**/*.png", "/p/img/x/y/a.png", true)]
    [InlineData("/p/img/?.png", "/p/img/ab.png", false)]
    [InlineData("/p/**", "/p/a/b", true)]
    public void Wildcards_FollowMSBuild(string pattern, string path, bool matches)
    {
        Skip.If(OperatingSystem.IsWindows());
        Assert.Equal(matches, DeclaredPatterns.ToRegex(pattern).IsMatch(path));
    }

    [SkippableTheory]
    [InlineData("images.zip", "/p/bin/Debug/net10.0/images.zip")]
    [InlineData("bin/Debug/net10.0/images.zip", "/p/bin/Debug/net10.0/images.zip")]
    [InlineData("artifacts/images.zip", "/p/artifacts/images.zip")]
    [InlineData("/tmp/images.zip", "/tmp/images.zip")]
    public void ArtifactPaths_BareNamesGoBesideTheOutput_FoldersAreProjectRelative(string value, string expected)
    {
        Skip.If(OperatingSystem.IsWindows());
        Assert.Equal(expected, JobSettings.ArtifactPath(value, "/p", "bin/Debug/net10.0/"));
    }
}
