using Microsoft.AspNetCore.Components;
using Xunit;

namespace KoalaPic.AspNetCore.Tests;

/// <summary>
/// Art direction: <c>&lt;koala-source&gt;</c> in the tag helper and <c>&lt;KoalaSource&gt;</c> in the component, each a
/// <c>&lt;source media&gt;</c> set per format ahead of the default image's sources.
/// </summary>
public sealed class ArtDirectionTests : IDisposable
{
    private const string Portrait = "(max-width: 600px)";
    private const string Square = "(max-width: 900px)";

    /// <summary>
    /// hero.jpg: landscape, avif lightest. hero-portrait.jpg: portrait, webp lighter than jpg, avif heavier than jpg at
    /// every width (so left out of its set). hero-square.jpg: one webp variant.
    /// </summary>
    private const string ArtManifest = """
        {
          "version": 1,
          "images": [
            {
              "source": "wwwroot/img/hero.jpg",
              "path": "/img/hero.jpg",
              "variants": [
                { "url": "/img/hero-600w.avif", "format": "avif", "width": 600, "height": 400, "bytes": 20000 },
                { "url": "/img/hero-1200w.avif", "format": "avif", "width": 1200, "height": 800, "bytes": 50000 },
                { "url": "/img/hero-600w.webp", "format": "webp", "width": 600, "height": 400, "bytes": 25000 },
                { "url": "/img/hero-1200w.webp", "format": "webp", "width": 1200, "height": 800, "bytes": 60000 },
                { "url": "/img/hero-600w.jpg", "format": "jpg", "width": 600, "height": 400, "bytes": 30000 },
                { "url": "/img/hero-1200w.jpg", "format": "jpg", "width": 1200, "height": 800, "bytes": 70000 }
              ]
            },
            {
              "source": "wwwroot/img/hero-portrait.jpg",
              "path": "/img/hero-portrait.jpg",
              "variants": [
                { "url": "/img/hero-portrait-400w.avif", "format": "avif", "width": 400, "height": 600, "bytes": 40000 },
                { "url": "/img/hero-portrait-800w.avif", "format": "avif", "width": 800, "height": 1200, "bytes": 90000 },
                { "url": "/img/hero-portrait-400w.webp", "format": "webp", "width": 400, "height": 600, "bytes": 10000 },
                { "url": "/img/hero-portrait-800w.webp", "format": "webp", "width": 800, "height": 1200, "bytes": 30000 },
                { "url": "/img/hero-portrait-800w.jpg", "format": "jpg", "width": 800, "height": 1200, "bytes": 50000 },
                { "url": "/img/hero-portrait-400w.jpg", "format": "jpg", "width": 400, "height": 600, "bytes": 20000 }
              ]
            },
            {
              "source": "wwwroot/img/hero-square.jpg",
              "path": "/img/hero-square.jpg",
              "variants": [
                { "url": "/img/hero-square.webp", "format": "webp", "width": 500, "height": 500, "bytes": 5 }
              ]
            }
          ]
        }
        """;

    private const string DefaultSources =
        "<source type=\"image/avif\" srcset=\"/img/hero-600w.avif 600w, /img/hero-1200w.avif 1200w\" sizes=\"100vw\" />"
        + "<source type=\"image/webp\" srcset=\"/img/hero-600w.webp 600w, /img/hero-1200w.webp 1200w\" sizes=\"100vw\" />"
        + "<img src=\"/img/hero-1200w.jpg\" srcset=\"/img/hero-600w.jpg 600w, /img/hero-1200w.jpg 1200w\" sizes=\"100vw\" width=\"1200\" height=\"800\" alt=\"A hero\" loading=\"lazy\" decoding=\"async\" />";

    private readonly TestApps apps = new(("Art.manifest.json", ArtManifest));

    private TestApp App(string environment = "Production", string pathBase = "") => apps.Create(environment, pathBase);

    public void Dispose() => apps.Dispose();

    [Fact]
    public void KoalaSource_ItsOwnSetPerFormat_LightestFirst_HeavierThanItsFallbackLeftOut_AheadOfTheDefault()
    {
        string html = App().RenderTagHelper("img/hero.jpg", new (string, object?)[] { ("alt", "A hero") }, new (string?, string?, string?)[] { (Portrait, "img/hero-portrait.jpg", null) });

        Assert.Equal(
            "<picture>"
            + "<source media=\"" + Portrait + "\" type=\"image/webp\" srcset=\"/img/hero-portrait-400w.webp 400w, /img/hero-portrait-800w.webp 800w\" sizes=\"100vw\" width=\"800\" height=\"1200\" />"
            + "<source media=\"" + Portrait + "\" type=\"image/jpeg\" srcset=\"/img/hero-portrait-400w.jpg 400w, /img/hero-portrait-800w.jpg 800w\" sizes=\"100vw\" width=\"800\" height=\"1200\" />"
            + DefaultSources
            + "</picture>",
            html);
        Html.Parse(html);
    }

    [Fact]
    public void SeveralKoalaSources_InTheOrderWritten_SizesTheirOwnOrTheParents_PathBaseApplied()
    {
        string html = App(pathBase: "/myapp").RenderTagHelper(
            "~/img/hero.jpg",
            new (string, object?)[] { ("alt", "A hero"), ("sizes", "50vw") },
            new (string?, string?, string?)[] { (Square, "/img/hero-square.jpg", "300px"), (Portrait, "~/img/hero-portrait.jpg", null) });

        List<Html.Element> elements = Html.Parse(html);
        Assert.Equal(new[] { "picture", "source", "source", "source", "source", "source", "img" }, elements.Select(e => e.Name));
        Html.Element[] sources = elements.Where(e => e.Name == "source").ToArray();
        Assert.Equal(new[] { Square, Portrait, Portrait, null, null }, sources.Select(s => s["media"]));
        Assert.Equal(new[] { "image/webp", "image/webp", "image/jpeg", "image/avif", "image/webp" }, sources.Select(s => s["type"]));
        Assert.Equal("/myapp/img/hero-square.webp", sources[0]["srcset"]);
        Assert.Equal(("500", "500"), (sources[0]["width"], sources[0]["height"]));
        Assert.Equal(new[] { "300px", "50vw", "50vw", "50vw", "50vw" }, sources.Select(s => s["sizes"]));
        Assert.StartsWith("/myapp/img/hero-portrait-400w.webp 400w", sources[1]["srcset"]);
        Assert.False(sources[3].Has("width"), "the default's sources keep their markup: its size is on the img");
        Assert.Equal("/myapp/img/hero-1200w.jpg", elements[^1]["src"]);
    }

    [Fact]
    public void KoalaSource_MissingEntryInDevelopment_ThrowsTheSameErrorAsAMissingDefault()
    {
        TestApp app = App("Development");

        var missingDefault = Assert.Throws<InvalidOperationException>(() => app.RenderTagHelper("img/hero-wide.jpg"));
        var missingSource = Assert.Throws<InvalidOperationException>(() => app.RenderTagHelper(
            "img/hero.jpg", Array.Empty<(string, object?)>(), new (string?, string?, string?)[] { (Portrait, "img/hero-wide.jpg", null) }));

        Assert.Equal(missingDefault.Message, missingSource.Message);
        Assert.Contains("\"img/hero-wide.jpg\"", missingSource.Message);
        Assert.Contains("Art.manifest.json", missingSource.Message);
        Assert.Contains("/img/hero-portrait.jpg", missingSource.Message);
    }

    [Fact]
    public void KoalaSource_MissingEntryInProduction_ItsOriginalFileAsTheSource()
    {
        string html = App().RenderTagHelper(
            "img/hero.jpg", new (string, object?)[] { ("alt", "A hero") }, new (string?, string?, string?)[] { (Portrait, "img/hero wide.jpg", null) });

        Assert.Equal("<picture><source media=\"" + Portrait + "\" srcset=\"/img/hero%20wide.jpg\" />" + DefaultSources + "</picture>", html);
    }

    [Fact]
    public void MissingDefaultInProduction_KoalaSourcesStillAheadOfThePlainImg()
    {
        List<Html.Element> elements = Html.Parse(App().RenderTagHelper(
            "img/gone.jpg", Array.Empty<(string, object?)>(), new (string?, string?, string?)[] { (Portrait, "img/hero-portrait.jpg", null) }));

        Assert.Equal(new[] { "picture", "source", "source", "img" }, elements.Select(e => e.Name));
        Assert.Equal("/img/gone.jpg", elements[^1]["src"]);
    }

    [Theory]
    [InlineData(null, "img/hero-portrait.jpg")]
    [InlineData(" ", "img/hero-portrait.jpg")]
    [InlineData(Portrait, null)]
    public void KoalaSource_WithoutMediaOrSrc_ThrowsInDevelopment_IsLeftOutInProduction(string? media, string? src)
    {
        var sources = new (string?, string?, string?)[] { (media, src, null) };

        var error = Assert.Throws<InvalidOperationException>(() => App("Development").RenderTagHelper("img/hero.jpg", Array.Empty<(string, object?)>(), sources));
        Assert.Contains("needs both media and src", error.Message);
        Assert.Contains("\"img/hero.jpg\"", error.Message);

        List<Html.Element> elements = Html.Parse(App().RenderTagHelper("img/hero.jpg", Array.Empty<(string, object?)>(), sources));
        Assert.All(elements, e => Assert.False(e.Has("media")));
    }

    [Fact]
    public void KoalaSource_HostileMedia_IsEncoded()
    {
        const string Hostile = "(max-width: 600px)\"><script>alert(1)</script>";
        string html = App().RenderTagHelper("img/hero.jpg", Array.Empty<(string, object?)>(), new (string?, string?, string?)[] { (Hostile, "img/hero-portrait.jpg", null) });

        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        Assert.Equal(Hostile, Html.Parse(html)[1]["media"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/myapp")]
    public async Task Component_KoalaSourceChildren_SameMarkupAsTheTagHelper(string pathBase)
    {
        TestApp app = App(pathBase: pathBase);

        string fromTagHelper = app.RenderTagHelper(
            "img/hero.jpg",
            new (string, object?)[] { ("alt", "A hero"), ("sizes", "50vw"), ("class", "hero") },
            new (string?, string?, string?)[] { (Square, "img/hero-square.jpg", "300px"), (Portrait, "img/hero-portrait.jpg", null) });
        string fromComponent = await app.RenderComponentAsync(new Dictionary<string, object?>
        {
            ["Src"] = "img/hero.jpg",
            ["Alt"] = "A hero",
            ["Sizes"] = "50vw",
            ["class"] = "hero",
            ["ChildContent"] = Sources((Square, "img/hero-square.jpg", "300px"), (Portrait, "img/hero-portrait.jpg", null)),
        });

        Assert.Equal(fromTagHelper, fromComponent);
        Assert.Equal(new[] { Square, Portrait, Portrait, null, null }, Html.Parse(fromComponent).Where(e => e.Name == "source").Select(s => s["media"]));
    }

    [Fact]
    public async Task Component_KoalaSourceMissingEntryInDevelopment_ThrowsTheSameErrorAsAMissingDefault()
    {
        TestApp app = App("Development");

        var missingDefault = await Assert.ThrowsAsync<InvalidOperationException>(() => app.RenderComponentAsync(new Dictionary<string, object?> { ["Src"] = "img/hero-wide.jpg" }));
        var missingSource = await Assert.ThrowsAsync<InvalidOperationException>(() => app.RenderComponentAsync(new Dictionary<string, object?>
        {
            ["Src"] = "img/hero.jpg",
            ["ChildContent"] = Sources((Portrait, "img/hero-wide.jpg", null)),
        }));

        Assert.Equal(missingDefault.Message, missingSource.Message);
        Assert.Contains("\"img/hero-wide.jpg\"", missingSource.Message);
    }

    [Fact]
    public async Task Component_KoalaSourceOutsideKoalaImg_Throws()
    {
        await using var renderer = new Microsoft.AspNetCore.Components.Web.HtmlRenderer(App().Services, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => renderer.Dispatcher.InvokeAsync(() =>
            renderer.RenderComponentAsync<KoalaSource>(ParameterView.FromDictionary(new Dictionary<string, object?> { ["Media"] = Portrait, ["Src"] = "img/hero-portrait.jpg" }))));

        Assert.Contains("must be inside a <KoalaImg>", error.Message);
    }

    /// <summary>The child content a .razor file compiles for <c>&lt;KoalaSource Media="…" Src="…" Sizes="…" /&gt;</c> children.</summary>
    private static RenderFragment Sources(params (string Media, string Src, string? Sizes)[] sources) => builder =>
    {
        foreach ((string media, string src, string? sizes) in sources)
        {
            builder.OpenComponent<KoalaSource>(0);
            builder.AddComponentParameter(1, nameof(KoalaSource.Media), media);
            builder.AddComponentParameter(2, nameof(KoalaSource.Src), src);
            if (sizes != null)
            {
                builder.AddComponentParameter(3, nameof(KoalaSource.Sizes), sizes);
            }

            builder.CloseComponent();
        }
    };
}
