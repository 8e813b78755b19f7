using Xunit;

namespace KoalaPic.AspNetCore.Tests;

public sealed class KoalaImgComponentTests : IDisposable
{
    private readonly TestApps apps = new(("TestApp.manifest.json", Manifests.App), ("Lib.manifest.json", Manifests.Library));

    private TestApp App(string environment = "Production", string pathBase = "") => apps.Create(environment, pathBase);

    public void Dispose() => apps.Dispose();

    [Theory]
    [InlineData("/img/photo.png", "")]
    [InlineData("/img/photo.png", "/myapp")]
    [InlineData("/img/modern.png", "/myapp")]
    [InlineData("/img/logo.png", "")]
    [InlineData("/_content/Lib/icons/star.png", "/site")]
    [InlineData("/img/missing.png", "/myapp")]
    public async Task SameMarkupAsTheTagHelper(string src, string pathBase)
    {
        TestApp app = App(pathBase: pathBase);
        const string Hostile = "\"><script>x</script>";

        string fromTagHelper = app.RenderTagHelper(
            src, ("alt", Hostile), ("sizes", "50vw"), ("loading", "eager"), ("class", "c"), ("data-id", "7"), ("style", "margin:0"));
        string fromComponent = await app.RenderComponentAsync(new Dictionary<string, object?>
        {
            ["Src"] = src,
            ["Alt"] = Hostile,
            ["Sizes"] = "50vw",
            ["Loading"] = "eager",
            ["class"] = "c",
            ["data-id"] = 7,
            ["style"] = "margin:0",
        });

        Assert.Equal(fromTagHelper, fromComponent);
        Assert.DoesNotContain("<script", fromComponent, StringComparison.Ordinal);
        Html.Parse(fromComponent);
        Assert.Contains((pathBase.Length == 0 ? "" : pathBase) + "/", fromComponent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Component_RendersThePicture_WithDefaultsAndPathBase()
    {
        string html = await App(pathBase: "/myapp").RenderComponentAsync(new Dictionary<string, object?> { ["Src"] = "img/photo.png", ["Alt"] = "A koala", ["hidden"] = true, ["draggable"] = false });

        List<Html.Element> elements = Html.Parse(html);
        Assert.Equal(new[] { "picture", "source", "source", "img" }, elements.Select(e => e.Name));
        Html.Element img = elements[3];
        Assert.Equal("/myapp/img/photo-960w.jpg", img["src"]);
        Assert.Equal("960", img["width"]);
        Assert.Equal("640", img["height"]);
        Assert.Equal("lazy", img["loading"]);
        Assert.Equal("async", img["decoding"]);
        Assert.Equal("100vw", img["sizes"]);
        Assert.True(img.Has("hidden"));
        Assert.False(img.Has("draggable"));
    }

    [Fact]
    public async Task Component_MissingEntryInDevelopment_Throws()
    {
        TestApp app = App("Development");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.RenderComponentAsync(new Dictionary<string, object?> { ["Src"] = "img/koala.png" }));

        Assert.Contains("\"img/koala.png\"", error.Message);
        Assert.Contains("TestApp.manifest.json", error.Message);
    }
}
