using Xunit;

namespace KoalaPic.AspNetCore.Tests;

public sealed class PictureMarkupBuilderTests
{
    [Theory]
    [InlineData("avif;webp", "webp")]
    [InlineData("avif;webp;jpg", "jpg")]
    [InlineData("jpg;avif;webp", "jpg")]
    [InlineData("webp;gif;png", "png")]
    [InlineData("avif;jpeg", "jpeg")]
    [InlineData("gif;webp", "gif")]
    [InlineData("avif", "avif")]
    [InlineData("webp;avif", "avif")]
    public void FallbackFormat_FirstOfJpgPngGif_ElseTheLast(string formats, string expected)
    {
        Assert.Equal(expected, PictureMarkupBuilder.FallbackFormat(formats.Split(';')));
    }

    [Theory]
    [InlineData("avif", "image/avif")]
    [InlineData("webp", "image/webp")]
    [InlineData("jpg", "image/jpeg")]
    [InlineData("png", "image/png")]
    [InlineData("gif", "image/gif")]
    [InlineData("tiff", "image/tiff")]
    [InlineData("heic", "image/heic")]
    [InlineData("svg", "image/svg+xml")]
    [InlineData("bmp", "image/bmp")]
    [InlineData("ico", "image/x-icon")]
    [InlineData("JPG", "image/jpeg")]
    public void MimeType(string format, string expected)
    {
        Assert.Equal(expected, PictureMarkupBuilder.MimeType(format));
    }

    [Fact]
    public void SourceType_ComesFromTheManifestsType_AndFromTheFormatOnlyWhenTheManifestHasNone()
    {
        var image = new KoalaManifestImage
        {
            Path = "/a.png",
            Variants = new()
            {
                new KoalaManifestVariant { Url = "/a.jxl", Format = "jxl", Type = "image/x-test-jxl", Width = 10, Height = 10 },
                new KoalaManifestVariant { Url = "/a.webp", Format = "webp", Width = 10, Height = 10 },
                new KoalaManifestVariant { Url = "/a.jpg", Format = "jpg", Type = "image/jpeg", Width = 10, Height = 10 },
            },
        };

        PictureMarkup markup = PictureMarkupBuilder.Build(image, null, Array.Empty<MarkupAttribute>());

        Assert.Equal(new[] { "image/x-test-jxl", "image/webp" }, markup.Sources.Select(s => s.Type));
    }

    [Theory]
    [InlineData("~/img/a.png", "/app", "/app/img/a.png")]
    [InlineData("/img/a.png", "/app/", "/app/img/a.png")]
    [InlineData("img/a.png?v=1", "", "/img/a.png?v=1")]
    [InlineData("https://cdn.example/a.png", "/app", "https://cdn.example/a.png")]
    [InlineData("//cdn.example/a.png", "/app", "//cdn.example/a.png")]
    public void ResolveUrl(string src, string pathBase, string expected)
    {
        Assert.Equal(expected, PictureMarkupBuilder.ResolveUrl(src, pathBase));
    }

    [Fact]
    public void HostilePlaceholderValues_AreDropped_NotWrittenIntoTheStyle()
    {
        var image = new KoalaManifestImage
        {
            Path = "/a.png",
            Placeholder = new KoalaManifestPlaceholder { Color = "red;background:url(https://evil)", Blur = "javascript:alert(1)" },
            Variants = new() { new KoalaManifestVariant { Url = "/a.jpg", Format = "jpg", Width = 1, Height = 1 } },
        };

        PictureMarkup markup = PictureMarkupBuilder.Build(image, null, Array.Empty<MarkupAttribute>());

        Assert.DoesNotContain(markup.ImgAttributes, a => a.Name == "style");
    }

    [Fact]
    public void SpacesAndCommasInUrls_DoNotBreakTheSrcset()
    {
        var image = new KoalaManifestImage
        {
            Path = "/a b.png",
            Variants = new()
            {
                new KoalaManifestVariant { Url = "/a b,1-10w.webp", Format = "webp", Width = 10, Height = 10 },
                new KoalaManifestVariant { Url = "/a b,1-20w.webp", Format = "webp", Width = 20, Height = 20 },
                new KoalaManifestVariant { Url = "/a b.jpg", Format = "jpg", Width = 20, Height = 20 },
            },
        };

        PictureMarkup markup = PictureMarkupBuilder.Build(image, null, Array.Empty<MarkupAttribute>());

        Assert.Equal("/a%20b%2C1-10w.webp 10w, /a%20b%2C1-20w.webp 20w", markup.Sources.Single().Srcset);
    }

    [Fact]
    public void NoVariants_APlainImgOfTheSourcePath()
    {
        PictureMarkup markup = PictureMarkupBuilder.Build(new KoalaManifestImage { Path = "/img/a.png" }, "/x", new[] { new MarkupAttribute("alt", "a") });

        Assert.False(markup.IsPicture);
        Assert.Equal("<img src=\"/x/img/a.png\" alt=\"a\" loading=\"lazy\" decoding=\"async\" />", markup.ToHtml());
    }
}
