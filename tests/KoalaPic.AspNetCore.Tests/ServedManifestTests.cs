using Microsoft.Extensions.FileProviders;
using Xunit;

namespace KoalaPic.AspNetCore.Tests;

/// <summary>
/// Manifests of Razor class libraries installed as NuGet packages: not in bin/…/koalapic/, but served as static web
/// assets at _content/&lt;Library&gt;/_koalapic/manifest.json and read through the web root's file provider (here a
/// real PhysicalFileProvider over a temp folder laid out like a published wwwroot/).
/// </summary>
public sealed class ServedManifestTests : IDisposable
{
    private readonly string webRootPath = Path.Combine(Path.GetTempPath(), "koalapic-aspnet-tests", Guid.NewGuid().ToString("N"), "wwwroot");

    private readonly TestApp app = new();

    private readonly PhysicalFileProvider webRoot;

    public ServedManifestTests()
    {
        Directory.CreateDirectory(webRootPath);
        webRoot = new PhysicalFileProvider(webRootPath);
    }

    public void Dispose()
    {
        webRoot.Dispose();
        app.Dispose();
        Directory.Delete(Path.GetDirectoryName(webRootPath)!, recursive: true);
    }

    private string Serve(string library, string json)
    {
        string folder = Path.Combine(webRootPath, "_content", library, "_koalapic");
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "manifest.json");
        File.WriteAllText(path, json);
        return path;
    }

    private KoalaImageManifest Manifest(IFileProvider? provider) =>
        new(new KoalaPicOptions { ManifestDirectory = app.ManifestDirectory }, provider);

    [Fact]
    public void ServedManifest_IsFoundThroughTheWebRoot()
    {
        Serve("Lib", Manifests.Library);
        // Not a manifest: another library's static web assets without one, and a file directly under _content/.
        Directory.CreateDirectory(Path.Combine(webRootPath, "_content", "Other", "css"));
        File.WriteAllText(Path.Combine(webRootPath, "_content", "stray.json"), "{");

        KoalaImageManifest manifest = Manifest(webRoot);

        Assert.True(manifest.TryGetImage("~/_content/Lib/icons/star.png", out KoalaManifestImage star));
        Assert.Contains(star.Variants!, v => v.Url == "/_content/Lib/icons/star-64w.webp");
        Assert.Equal(new[] { "/_content/Lib/_koalapic/manifest.json" }, manifest.Files);
    }

    [Fact]
    public void SamePathInBinAndServed_TheBinManifestWins()
    {
        app.Write("Lib.manifest.json", Manifests.Library);
        Serve("Lib", Manifests.Library.Replace("/_content/Lib/icons/star-64w.webp", "/_content/Lib/icons/served.webp"));

        KoalaImageManifest manifest = Manifest(webRoot);

        Assert.True(manifest.TryGetImage("/_content/Lib/icons/star.png", out KoalaManifestImage star));
        Assert.Contains(star.Variants!, v => v.Url == "/_content/Lib/icons/star-64w.webp");
        Assert.DoesNotContain(star.Variants!, v => v.Url == "/_content/Lib/icons/served.webp");
        Assert.Equal(2, manifest.Files.Count);
    }

    [Fact]
    public void MalformedServedManifest_ThrowsNamingThePath()
    {
        string path = Serve("Lib", "{\"version\":1,\"images\":[");

        var error = Assert.Throws<InvalidOperationException>(() => Manifest(webRoot).TryGetImage("/_content/Lib/icons/star.png", out _));

        Assert.Contains(path, error.Message);
        Assert.Contains("/_content/Lib/_koalapic/manifest.json", error.Message);
        Assert.Contains("is malformed", error.Message);
    }

    [Fact]
    public void NoWebRoot_ServedManifestsAreNotRead()
    {
        Serve("Lib", Manifests.Library);
        app.Write("TestApp.manifest.json", Manifests.App);

        foreach (KoalaImageManifest manifest in new[] { Manifest(null), new KoalaImageManifest(new KoalaPicOptions { ManifestDirectory = app.ManifestDirectory }) })
        {
            Assert.False(manifest.TryGetImage("/_content/Lib/icons/star.png", out _));
            Assert.True(manifest.TryGetImage("/img/photo.png", out _));
            Assert.Equal(Path.Combine(app.ManifestDirectory, "TestApp.manifest.json"), Assert.Single(manifest.Files));
        }
    }

    [Fact]
    public void AddKoalaPic_ReadsTheEnvironmentsWebRoot()
    {
        Serve("Lib", Manifests.Library);
        using var site = new TestApp(webRoot: webRoot);

        List<Html.Element> elements = Html.Parse(site.RenderTagHelper("~/_content/Lib/icons/star.png"));

        Assert.Equal("picture", elements[0].Name);
        Assert.Contains(elements, e => e.Name == "source" && e["srcset"]?.Contains("/_content/Lib/icons/star-64w.webp", StringComparison.Ordinal) == true);
    }

    [Fact]
    public void WithoutAddKoalaPic_TheRequestsEnvironmentsWebRootIsRead()
    {
        Serve("Lib", Manifests.Library);
        using var site = new TestApp("Development", register: false, webRoot: webRoot);

        List<Html.Element> elements = Html.Parse(site.RenderTagHelper("~/_content/Lib/icons/star.png"));

        Assert.Equal("picture", elements[0].Name);
        Assert.Contains(elements, e => e.Name == "source" && e["srcset"]?.Contains("/_content/Lib/icons/star-64w.webp", StringComparison.Ordinal) == true);
    }
}
