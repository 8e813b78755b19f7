using Xunit;

namespace KoalaPic.AspNetCore.Tests;

public sealed class KoalaImageManifestTests : IDisposable
{
    private readonly TestApp app = new();

    public void Dispose() => app.Dispose();

    private KoalaImageManifest Manifest() => new(new KoalaPicOptions { ManifestDirectory = app.ManifestDirectory });

    [Theory]
    [InlineData("~/img/photo.png", "/img/photo.png")]
    [InlineData("/img/photo.png", "/img/photo.png")]
    [InlineData("img/photo.png", "/img/photo.png")]
    [InlineData("img\\photo.png", "/img/photo.png")]
    [InlineData("/img/photo.png#top", "/img/photo.png")]
    [InlineData("https://example.com/img/photo.png", null)]
    [InlineData("//example.com/img/photo.png", null)]
    [InlineData("", null)]
    [InlineData("~/", null)]
    public void NormalizePath(string src, string? expected)
    {
        Assert.Equal(expected, KoalaImageManifest.NormalizePath(src));
    }

    [Fact]
    public void IndexesEveryManifestByPath_CaseInsensitive()
    {
        app.Write("TestApp.manifest.json", Manifests.App);
        app.Write("Lib.manifest.json", Manifests.Library);
        KoalaImageManifest manifest = Manifest();

        Assert.True(manifest.TryGetImage("~/_CONTENT/lib/icons/STAR.png", out KoalaManifestImage star));
        Assert.Equal("wwwroot/icons/star.png", star.Source);
        Assert.True(manifest.TryGetImage("img/photo.png", out KoalaManifestImage photo));
        Assert.Equal("#8a7f6e", photo.Placeholder!.Color);
        Assert.False(manifest.TryGetImage("/img/none.png", out _));
        Assert.Equal(2, manifest.Files.Count);
        Assert.Equal(5, manifest.Paths.Count);
    }

    [Fact]
    public void NoFolder_NoManifests_NothingFound()
    {
        Directory.Delete(app.ManifestDirectory);
        KoalaImageManifest manifest = Manifest();

        Assert.False(manifest.TryGetImage("/img/photo.png", out _));
        Assert.Empty(manifest.Files);
    }

    [Fact]
    public void SamePathInTwoManifests_TheNewestFileWins()
    {
        string stale = app.Write("Old.manifest.json", Manifests.App.Replace("/img/photo-960w.jpg", "/img/stale.jpg"));
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddDays(-1));
        app.Write("New.manifest.json", Manifests.App);

        Assert.True(Manifest().TryGetImage("/img/photo.png", out KoalaManifestImage image));
        Assert.Contains(image.Variants!, v => v.Url == "/img/photo-960w.jpg");
    }

    [Fact]
    public void EntryWithoutPath_IsMalformed()
    {
        string path = app.Write("NoPath.manifest.json", "{\"version\":1,\"images\":[{\"source\":\"a.png\",\"variants\":[]}]}");

        var error = Assert.Throws<InvalidOperationException>(() => Manifest().TryGetImage("/a.png", out _));

        Assert.Contains(path, error.Message);
        Assert.Contains("no \"path\"", error.Message);
    }

    [Fact]
    public void RelativeManifestDirectory_IsUnderTheAppBaseDirectory()
    {
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "koalapic"), new KoalaImageManifest(new KoalaPicOptions()).Directory);
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "other"), new KoalaImageManifest(new KoalaPicOptions { ManifestDirectory = "other" }).Directory);
    }
}
