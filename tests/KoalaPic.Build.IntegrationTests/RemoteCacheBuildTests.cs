using System.Text.Json;
using KoalaPic.Build.Tests;
using Xunit.Abstractions;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>
/// KoalaPicRemoteCache with the real dotnet CLI and a real nginx: CI pushes, a fresh clone elsewhere converts nothing
/// and gets byte-identical outputs; a remote that refuses connections or answers 503 leaves the build green, every
/// output made locally and decodable, with exactly one warning naming the remote, which the next (no-op) build does
/// not repeat.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class RemoteCacheBuildTests : IClassFixture<NginxFixture>
{
    private static readonly string[] Outputs = { "img/a.webp", "img/b.avif" };

    private readonly PackageFixture package;
    private readonly NginxServer nginx;
    private readonly ITestOutputHelper output;

    public RemoteCacheBuildTests(PackageFixture package, NginxFixture fixture, ITestOutputHelper output)
    {
        this.package = package;
        nginx = fixture.Server;
        this.output = output;
    }

    /// <summary>A fresh clone: the project with its two images, its own obj/ and local cache, and the remote settings.</summary>
    private TestProject Clone(string remoteUrl, bool push)
    {
        TestProject project = TestProject.Create(package, "ConsoleApp");
        project.AddImage("Landscape_1.jpg", "img/a.jpg");
        project.AddImage("flowers.jpeg", "img/b.jpg");
        project.SetKoalaImages("""
            <KoalaImage Include="img/a.jpg" Format="webp" Width="400" />
            <KoalaImage Include="img/b.jpg" Format="avif" Width="300" />
            """);
        project.SetProperty("KoalaPicRemoteCache", remoteUrl);
        if (push)
        {
            project.SetProperty("KoalaPicRemoteCachePush", "true");
        }

        return project;
    }

    private DotNetResult BuildOk(TestProject project)
    {
        DotNetResult result = project.Build();
        output.WriteLine($"exit {result.ExitCode}");
        foreach (string line in result.KoalaPicLines)
        {
            output.WriteLine(line);
        }

        Assert.True(result.Succeeded, result.ToString());
        return result;
    }

    private static string[] Statuses(TestProject project) =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(project.Directory, "obj", "Debug", "net10.0", "koalapic", "report.json"))).RootElement
            .GetProperty("items").EnumerateArray().Select(i => i.GetProperty("status").GetString()!).ToArray();

    /// <summary>The distinct "warning KPxxxx" lines before MSBuild's closing summary repeats them.</summary>
    private static List<string> Warnings(DotNetResult result) =>
        result.Output.Split('\n').Select(l => l.Trim()).TakeWhile(l => l is not ("Build FAILED." or "Build succeeded."))
            .Where(l => l.Contains(": warning KP", StringComparison.Ordinal)).Distinct().ToList();

    [SkippableFact]
    public void PushedByCi_AFreshCloneConvertsNothing_AndGetsTheSameBytes()
    {
        nginx.Require();
        string folder = Guid.NewGuid().ToString("N");
        string url = nginx.Url("cache", folder);
        using TestProject ci = Clone(url, push: true);
        using TestProject clone = Clone(url, push: false);

        DotNetResult pushed = BuildOk(ci);
        DotNetResult served = BuildOk(clone);

        Assert.StartsWith("KoalaPic: 2 images, 2 converted, ", pushed.Summary);
        Assert.Equal(2, nginx.Stored("cache", folder).Count);
        Assert.StartsWith("KoalaPic: 2 images, 0 converted, 2 up to date (2 from the remote cache), ", served.Summary);
        Assert.Equal(new[] { "from_remote_cache", "from_remote_cache" }, Statuses(clone));
        Assert.Empty(Warnings(pushed));
        Assert.Empty(Warnings(served));
        foreach (string name in Outputs)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(ci.BinDirectory, name)), File.ReadAllBytes(Path.Combine(clone.BinDirectory, name)));
        }
    }

    [Fact]
    public void ConnectionRefused_TheBuildConvertsLocally_WithOneWarningNamingTheRemote() =>
        AssertBrokenRemote("http://127.0.0.1:" + NginxServer.FreePort() + "/koalapic/", "Connection refused");

    [SkippableFact]
    public void ServerError_TheBuildConvertsLocally_WithOneWarningNamingTheRemote()
    {
        nginx.Require();
        AssertBrokenRemote(nginx.Url("broken", "x"), "HTTP 503");
    }

    private void AssertBrokenRemote(string url, string cause)
    {
        using TestProject project = Clone(url, push: true);

        DotNetResult result = BuildOk(project);

        Assert.StartsWith("KoalaPic: 2 images, 2 converted, ", result.Summary);
        Assert.Equal(new[] { "converted", "converted" }, Statuses(project));
        string warning = Assert.Single(Warnings(result));
        Assert.Contains("warning KP4020", warning);
        Assert.Contains("the remote cache '" + url + "'", warning);
        Assert.Contains(cause, warning);
        Assert.Equal(("VipsForeignLoadWebpBuffer", 400), (ImageFile.Read(Path.Combine(project.BinDirectory, "img/a.webp")).Loader, ImageFile.Read(Path.Combine(project.BinDirectory, "img/a.webp")).Width));
        Assert.Equal(("VipsForeignLoadHeifBuffer", 300), (ImageFile.Read(Path.Combine(project.BinDirectory, "img/b.avif")).Loader, ImageFile.Read(Path.Combine(project.BinDirectory, "img/b.avif")).Width));

        // The next build changes nothing and never asks the server, so it does not repeat what that server did.
        DotNetResult noOp = BuildOk(project);
        Assert.StartsWith("KoalaPic: 2 images, 0 converted, 2 up to date, nothing to convert", noOp.Summary);
        Assert.Empty(Warnings(noOp));
    }
}
