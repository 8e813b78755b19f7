using System.Diagnostics;
using System.Xml.Linq;
using KoalaPic.Build.Engine;
using KoalaPic.Build.Tests;
using Xunit.Abstractions;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>
/// KoalaPic's diagnostics as MSBuild shows and controls them, in real builds: at the KoalaImage element's line, a
/// repeated KP2013 grouped per definition, silenced by the project's own NoWarn and made fatal by WarningsAsErrors.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class WarningControlBuildTests : IDisposable
{
    private readonly ITestOutputHelper output;
    private readonly TestProject project;

    public WarningControlBuildTests(PackageFixture package, ITestOutputHelper output)
    {
        this.output = output;
        project = TestProject.Create(package, "ConsoleApp");
        project.AddImage("Landscape_1.jpg", "img/photo.jpg");
    }

    public void Dispose() => project.Dispose();

    private DotNetResult Build()
    {
        var clock = Stopwatch.StartNew();
        DotNetResult result = project.Build();
        output.WriteLine($"dotnet build: {clock.Elapsed.TotalSeconds:0.0} s, exit {result.ExitCode}");
        output.WriteLine(string.Join("\n", result.KoalaPicLines));
        return result;
    }

    /// <summary>The diagnostic lines of one code in the build log, without MSBuild's closing repeat of them.</summary>
    private static List<string> Lines(DotNetResult result, string code) =>
        result.Output.Split('\n').Select(l => l.Trim())
            .TakeWhile(l => l is not ("Build FAILED." or "Build succeeded."))
            .Where(l => l.Contains($" {code}: ", StringComparison.Ordinal))
            .ToList();

    private void SetOnlyProperty(string name, string? value)
    {
        XDocument document = XDocument.Load(project.ProjectFile);
        document.Root!.Elements("PropertyGroup").Elements().Where(e => e.Name.LocalName is "NoWarn" or "WarningsAsErrors").Remove();
        if (value != null)
        {
            document.Root.Add(new XElement("PropertyGroup", new XElement(name, value)));
        }

        document.Save(project.ProjectFile);
    }

    [Fact]
    public void KP2013GroupedAtItsLine_NoWarnSilencesIt_WarningsAsErrorsFailsTheBuild_MetadataErrorAtItsLine()
    {
        // Three well-compressed photos turned into full-size PNGs: each output is larger than its source.
        foreach (string name in new[] { "a", "b", "c" })
        {
            using NetVips.Image photo = NetVips.Image.ThumbnailBuffer(File.ReadAllBytes(Paths.Fixture("Landscape_1.jpg")), 200);
            project.WriteFile($"img/tight/{name}.jpg", photo.JpegsaveBuffer(q: 20));
        }

        project.SetKoalaImages("""
            <KoalaImage Include="img/photo.jpg" Format="webp" Width="320" />
            <KoalaImage Include="img/tight/*.jpg" Format="png" />
            """);
        string tight = project.KoalaImageAt("img/tight/*.jpg");

        DotNetResult result = Build();

        Assert.True(result.Succeeded, result.ToString());
        string grouped = Assert.Single(Lines(result, DiagnosticCodes.OutputLargerThanSource));
        Assert.Contains(
            $"{project.ProjectFile}{tight}: warning KP2013: 3 outputs of KoalaImage Include=\"img/tight/*.jpg\" are larger than their sources (img/tight/a.png: ",
            grouped,
            StringComparison.Ordinal);

        // The project's own NoWarn silences it (also when the warning is repeated by a build with nothing to convert).
        SetOnlyProperty("NoWarn", "$(NoWarn);KP2013");
        DotNetResult silenced = Build();
        Assert.True(silenced.Succeeded, silenced.ToString());
        Assert.DoesNotContain("KP2013", silenced.Output, StringComparison.Ordinal);

        // WarningsAsErrors makes it an error that fails the build (here repeated from the last run, which converted).
        SetOnlyProperty("WarningsAsErrors", "KP2013");
        DotNetResult fatal = Build();
        Assert.False(fatal.Succeeded, fatal.ToString());
        Assert.Contains("error KP2013: 3 outputs of KoalaImage Include=\"img/tight/*.jpg\" are larger than their sources", fatal.Output, StringComparison.Ordinal);

        // A metadata error points at its element's line too.
        SetOnlyProperty("WarningsAsErrors", null);
        project.SetKoalaImages("""
            <KoalaImage Include="img/photo.jpg" Format="wepb" Width="320" />
            """);
        string wepb = project.KoalaImageAt("wepb");
        DotNetResult bad = Build();
        Assert.False(bad.Succeeded, bad.ToString());
        string error = Assert.Single(Lines(bad, DiagnosticCodes.InvalidFormat));
        Assert.StartsWith($"{project.ProjectFile}{wepb}: error KP1001: KoalaImage 'img/photo.jpg': ", error, StringComparison.Ordinal);
    }
}
