using Microsoft.AspNetCore.Html;
using Xunit;

namespace KoalaPic.AspNetCore.Tests;

public sealed class KoalaImgTagHelperTests : IDisposable
{
    private const string Blur = "data:image/webp;base64,UklGRh4AAABXRUJQVlA4+/8=";
    private const string BlurStyle = "background-color:#8a7f6e;background-image:url(" + Blur + ");background-size:cover;background-position:center;background-repeat:no-repeat";

    private readonly TestApps apps = new(("TestApp.manifest.json", Manifests.App));

    private TestApp App(string environment = "Production", string pathBase = "", Action<KoalaPicOptions>? configure = null) => apps.Create(environment, pathBase, configure);

    public void Dispose() => apps.Dispose();

    [Fact]
    public void AvifWebpJpg_SourcesInManifestOrder_JpgInTheImg_WithIntrinsicSizeAndPlaceholder()
    {
        string html = App().RenderTagHelper("~/img/photo.png", ("alt", "A koala"), ("sizes", "(max-width: 600px) 100vw, 50vw"));

        const string Sizes = "(max-width: 600px) 100vw, 50vw";
        Assert.Equal(
            "<picture>"
            + "<source type=\"image/avif\" srcset=\"/img/photo-480w.avif 480w, /img/photo-960w.avif 960w\" sizes=\"" + Sizes + "\" />"
            + "<source type=\"image/webp\" srcset=\"/img/photo-480w.webp 480w, /img/photo-960w.webp 960w\" sizes=\"" + Sizes + "\" />"
            + "<img src=\"/img/photo-960w.jpg\" srcset=\"/img/photo-480w.jpg 480w, /img/photo-960w.jpg 960w\" sizes=\"" + Sizes + "\" width=\"960\" height=\"640\" alt=\"A koala\" loading=\"lazy\" decoding=\"async\" style=\""
            + BlurStyle.Replace("+", "&#x2B;") + "\" />"
            + "</picture>",
            html);

        List<Html.Element> elements = Html.Parse(html);
        Assert.Equal(new[] { "picture", "source", "source", "img" }, elements.Select(e => e.Name));
        Assert.Equal(BlurStyle, elements[3]["style"]);
    }

    [Fact]
    public void AvifWebp_WithoutJpgPngGif_TheLastFormatIsTheImg()
    {
        List<Html.Element> elements = Html.Parse(App().RenderTagHelper("/img/modern.png", ("alt", "")));

        Assert.Equal(new[] { "picture", "source", "img" }, elements.Select(e => e.Name));
        Assert.Equal("image/avif", elements[1]["type"]);
        Assert.Equal("/img/modern-400w.avif 400w, /img/modern-800w.avif 800w", elements[1]["srcset"]);
        Html.Element img = elements[2];
        Assert.Equal("/img/modern-800w.webp", img["src"]);
        Assert.Equal("/img/modern-400w.webp 400w, /img/modern-800w.webp 800w", img["srcset"]);
        Assert.Equal("800", img["width"]);
        Assert.Equal("600", img["height"]);
        Assert.Equal("", img["alt"]);
        // Colour only: no background image.
        Assert.Equal("background-color:#102030", img["style"]);
    }

    [Fact]
    public void NoSizesGiven_WidthDescriptorsGet100vw()
    {
        List<Html.Element> elements = Html.Parse(App().RenderTagHelper("/img/photo.png"));

        Assert.All(elements.Skip(1), e => Assert.Equal("100vw", e["sizes"]));
        Assert.False(elements[3].Has("alt"));
    }

    [Fact]
    public void SingleVariantFormats_PlainUrlSrcset_NoSizes_UnknownSizeOmitted()
    {
        // webp has one variant (a plain URL); png is the fallback and has no recorded size.
        List<Html.Element> elements = Html.Parse(App().RenderTagHelper("/img/logo.png"));

        Assert.Equal(new[] { "picture", "source", "img" }, elements.Select(e => e.Name));
        Assert.Equal("/img/logo.webp", elements[1]["srcset"]);
        Assert.False(elements[1].Has("sizes"));
        Html.Element img = elements[2];
        Assert.Equal("/img/logo-old.png", img["src"]);
        Assert.False(img.Has("srcset"));
        Assert.False(img.Has("sizes"));
        Assert.False(img.Has("width"));
        Assert.False(img.Has("height"));
        Assert.False(img.Has("style"));
    }

    [Fact]
    public void UnknownWidths_NoWidthDescriptors_LargestLastVariant()
    {
        List<Html.Element> elements = Html.Parse(App().RenderTagHelper("/img/old.jpg", ("sizes", "50vw")));

        Assert.Equal("/img/old-b.webp", elements[1]["srcset"]);
        Assert.Equal("/img/old.jpg", elements[2]["src"]);
        Assert.False(elements[2].Has("width"));
    }

    [Fact]
    public void UserAttributes_GoToTheImg_AndTheirValuesWin()
    {
        string html = App().RenderTagHelper(
            "~/img/photo.png",
            ("class", "hero rounded"),
            ("id", "main-photo"),
            ("data-kind", "koala"),
            ("title", "Title"),
            ("loading", "eager"),
            ("decoding", "sync"),
            ("fetchpriority", "high"),
            ("hidden", TestApp.Minimized.Value),
            ("style", "border:1px solid red"),
            ("width", "300"),
            ("height", "150"));

        Html.Element img = Html.Parse(html)[3];
        Assert.Equal(
            new[] { "src", "srcset", "sizes", "width", "height", "loading", "decoding", "class", "id", "data-kind", "title", "fetchpriority", "hidden", "style" },
            img.Names);
        Assert.Equal("hero rounded", img["class"]);
        Assert.Equal("main-photo", img["id"]);
        Assert.Equal("koala", img["data-kind"]);
        Assert.Equal("Title", img["title"]);
        Assert.Equal("eager", img["loading"]);
        Assert.Equal("sync", img["decoding"]);
        Assert.Equal("high", img["fetchpriority"]);
        Assert.Null(img["hidden"]);
        Assert.Equal("300", img["width"]);
        Assert.Equal("150", img["height"]);
        Assert.Equal(BlurStyle + ";border:1px solid red", img["style"]);
    }

    [Fact]
    public void OnlyWidthGiven_HeightKeepsTheAspectRatio()
    {
        Html.Element img = Html.Parse(App().RenderTagHelper("~/img/photo.png", ("width", "300")))[3];

        Assert.Equal("300", img["width"]);
        Assert.Equal("200", img["height"]);
    }

    [Fact]
    public void HostileAlt_IsEncoded_NoElementIsInjected()
    {
        const string Hostile = "\"><script>alert(1)</script><img src=x onerror=alert(2)>";
        string html = App().RenderTagHelper("~/img/photo.png", ("alt", Hostile), ("title", new HtmlString("Tom &amp; Jerry")), ("data-x", "a'b"));

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        List<Html.Element> elements = Html.Parse(html);
        Assert.Equal(4, elements.Count);
        Assert.Equal(Hostile, elements[3]["alt"]);
        // Razor's pre-encoded literal is encoded once, not twice.
        Assert.Equal("Tom & Jerry", elements[3]["title"]);
        Assert.Equal("a'b", elements[3]["data-x"]);
        Assert.False(elements[3].Has("onerror"));
    }

    [Fact]
    public void PathBase_PrefixesEveryUrl()
    {
        List<Html.Element> elements = Html.Parse(App(pathBase: "/myapp").RenderTagHelper("~/img/photo.png"));

        Assert.Equal("/myapp/img/photo-480w.avif 480w, /myapp/img/photo-960w.avif 960w", elements[1]["srcset"]);
        Assert.Equal("/myapp/img/photo-480w.webp 480w, /myapp/img/photo-960w.webp 960w", elements[2]["srcset"]);
        Assert.Equal("/myapp/img/photo-960w.jpg", elements[3]["src"]);
        Assert.Equal("/myapp/img/photo-480w.jpg 480w, /myapp/img/photo-960w.jpg 960w", elements[3]["srcset"]);
    }

    [Theory]
    [InlineData("~/img/photo.png")]
    [InlineData("/img/photo.png")]
    [InlineData("img/photo.png")]
    [InlineData("~/IMG/Photo.PNG")]
    [InlineData("/img/photo.png?v=3")]
    public void Src_TildeRootedRelativeAndCaseInsensitive_FindTheEntry(string src)
    {
        // In Development a miss would throw, so rendering a picture proves the lookup.
        List<Html.Element> elements = Html.Parse(App("Development").RenderTagHelper(src));

        Assert.Equal("/img/photo-960w.jpg", elements.Single(e => e.Name == "img")["src"]);
    }

    [Fact]
    public void MissingEntry_InDevelopment_ThrowsNamingSrcManifestsPathsAndFix()
    {
        TestApp app = App("Development");
        app.Write("Lib.manifest.json", Manifests.Library);

        var error = Assert.Throws<InvalidOperationException>(() => app.RenderTagHelper("~/img/koala.png"));

        Assert.Contains("\"~/img/koala.png\"", error.Message);
        Assert.Contains("\"/img/koala.png\"", error.Message);
        Assert.Contains("TestApp.manifest.json (4 images)", error.Message);
        Assert.Contains("Lib.manifest.json (1 images)", error.Message);
        Assert.Contains(app.ManifestDirectory, error.Message);
        Assert.Contains("/img/photo.png", error.Message);
        Assert.Contains("/_content/Lib/icons/star.png", error.Message);
        Assert.Contains("<KoalaImage Include=\"wwwroot/img/koala.png\"", error.Message);
        Assert.Contains("ThrowOnMissing", error.Message);
    }

    [Fact]
    public void NoManifestAtAll_InDevelopment_SaysNoneWasFoundAndHowToGetOne()
    {
        using var app = new TestApp("Development");

        var error = Assert.Throws<InvalidOperationException>(() => app.RenderTagHelper("~/img/photo.png"));

        Assert.Contains("No image manifest was found", error.Message);
        Assert.Contains(app.ManifestDirectory, error.Message);
        Assert.Contains("KoalaPic.Build", error.Message);
        Assert.Contains("build the project", error.Message);
    }

    [Fact]
    public void MissingEntry_InProduction_RendersAPlainImgWithTheUsersAttributes()
    {
        string html = App(pathBase: "/myapp").RenderTagHelper("~/img/koala.png", ("alt", "K"), ("class", "c"), ("width", "10"));

        Assert.Equal("<img src=\"/myapp/img/koala.png\" width=\"10\" alt=\"K\" loading=\"lazy\" decoding=\"async\" class=\"c\" />", html);
    }

    [Fact]
    public void ThrowOnMissing_Option_OverridesTheEnvironment()
    {
        Assert.StartsWith("<img ", App("Development", configure: o => o.ThrowOnMissing = false).RenderTagHelper("/nope.png"));
        Assert.Throws<InvalidOperationException>(() => App("Production", configure: o => o.ThrowOnMissing = true).RenderTagHelper("/nope.png"));
    }

    [Fact]
    public void MalformedManifest_ThrowsNamingTheFile()
    {
        TestApp app = App("Production");
        string broken = app.Write("Broken.manifest.json", "{ \"version\": 1, \"images\": [ { \"path\": ");

        var error = Assert.Throws<InvalidOperationException>(() => app.RenderTagHelper("~/img/photo.png"));

        Assert.Contains(broken, error.Message);
        Assert.Contains("malformed", error.Message);
    }

    [Fact]
    public void NewerSchemaVersion_ThrowsNamingTheFile()
    {
        TestApp app = App("Production");
        string newer = app.Write("Newer.manifest.json", "{ \"version\": 2, \"images\": [] }");

        var error = Assert.Throws<InvalidOperationException>(() => app.RenderTagHelper("~/img/photo.png"));

        Assert.Contains(newer, error.Message);
        Assert.Contains("version 2", error.Message);
    }

    [Fact]
    public void SeveralManifests_AppAndRazorClassLibrary_AreBothFound()
    {
        TestApp app = App("Development", pathBase: "/site");
        app.Write("Lib.manifest.json", Manifests.Library);

        List<Html.Element> library = Html.Parse(app.RenderTagHelper("~/_content/Lib/icons/star.png", ("alt", "star")));
        List<Html.Element> own = Html.Parse(app.RenderTagHelper("~/img/photo.png"));

        Assert.Equal(new[] { "picture", "source", "img" }, library.Select(e => e.Name));
        Assert.Equal("image/webp", library[1]["type"]);
        Assert.Equal("/site/_content/Lib/icons/star-32w.webp 32w, /site/_content/Lib/icons/star-64w.webp 64w", library[1]["srcset"]);
        Assert.Equal("/site/_content/Lib/icons/star-64w.png", library[2]["src"]);
        Assert.Equal("64", library[2]["width"]);
        Assert.Equal("/site/img/photo-960w.jpg", own[3]["src"]);
    }
}
