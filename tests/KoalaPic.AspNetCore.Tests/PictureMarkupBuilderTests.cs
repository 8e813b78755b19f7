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

    [Fact]
    public void Sources_LightestFirst_ByTheBytesTheManifestRecords()
    {
        // avif;webp;jpg as listed, but this image's AVIF is heavier than its WebP (issue 18: waterfall-600w); lighter
        // than the JPEG at 300 px, so it stays.
        KoalaManifestImage image = Image(("avif", 300, 7_900), ("avif", 600, 75_100), ("webp", 300, 6_170), ("webp", 600, 59_480), ("jpg", 300, 8_407), ("jpg", 600, 64_697));

        PictureMarkup markup = PictureMarkupBuilder.Build(image, null, Array.Empty<MarkupAttribute>());

        Assert.Equal(new[] { "image/webp", "image/avif" }, markup.Sources.Select(s => s.Type));
        Assert.Equal("/a-300w.jpg 300w, /a-600w.jpg 600w", markup.ImgAttributes.Single(a => a.Name == "srcset").Value);
    }

    [Fact]
    public void AFormatHeavierThanTheFallbackAtEveryWidth_IsLeftOut()
    {
        KoalaManifestImage image = Image(("avif", 480, 30_000), ("avif", 960, 90_000), ("webp", 480, 10_000), ("webp", 960, 30_000), ("jpg", 480, 20_000), ("jpg", 960, 60_000));

        PictureMarkup markup = PictureMarkupBuilder.Build(image, null, Array.Empty<MarkupAttribute>());

        Assert.Equal(new[] { "image/webp" }, markup.Sources.Select(s => s.Type));
        Assert.DoesNotContain("avif", markup.ToHtml(), StringComparison.Ordinal);
    }

    [Fact]
    public void EveryFormatHeavierThanTheFallback_LeavesAPictureWithOnlyTheImg()
    {
        KoalaManifestImage image = Image(("avif", 300, 9_000), ("webp", 300, 8_000), ("png", 300, 7_000));

        PictureMarkup markup = PictureMarkupBuilder.Build(image, null, Array.Empty<MarkupAttribute>());

        Assert.Empty(markup.Sources);
        Assert.Equal("/a-300w.png", markup.ImgAttributes.Single(a => a.Name == "src").Value);
    }

    [Theory]
    // Lighter than the fallback at one width, heavier at the other: kept (a source cannot be chosen per width).
    [InlineData(12_000, 70_000, true)]
    // Equal at one width, heavier at the other: not heavier at every width, kept.
    [InlineData(20_000, 70_000, true)]
    // A width the fallback lacks cannot be compared: kept.
    [InlineData(30_000, -1, true)]
    [InlineData(30_000, 70_000, false)]
    public void LeftOut_OnlyWhenHeavierAtEveryWidth(long avif480, long avif960, bool kept)
    {
        var variants = new List<(string, int?, long)> { ("avif", 480, avif480), ("jpg", 480, 20_000), ("jpg", 960, 60_000) };
        variants.Add(avif960 < 0 ? ("avif", 1200, 99_000) : ("avif", 960, avif960));

        PictureMarkup markup = PictureMarkupBuilder.Build(Image(variants.ToArray()), null, Array.Empty<MarkupAttribute>());

        Assert.Equal(kept, markup.Sources.Any(s => s.Type == "image/avif"));
    }

    [Fact]
    public void FormatsWithoutSharedWidths_AreWeighedByAllTheirBytes()
    {
        KoalaManifestImage image = Image(("avif", 1200, 50_000), ("webp", 300, 9_000), ("webp", 600, 30_000), ("jpg", 300, 10_000), ("jpg", 600, 35_000), ("jpg", 1200, 90_000));

        PictureMarkup markup = PictureMarkupBuilder.Build(image, null, Array.Empty<MarkupAttribute>());

        Assert.Equal(new[] { "image/webp", "image/avif" }, markup.Sources.Select(s => s.Type));
    }

    [Fact]
    public void SharedWidths_DecideTheOrder_NotAWidthOnlyOneFormatHas()
    {
        // AVIF's extra 1200w variant makes its total larger, but at the widths both have it is the lighter.
        KoalaManifestImage image = Image(("avif", 300, 5_000), ("avif", 600, 20_000), ("avif", 1200, 80_000), ("webp", 300, 6_000), ("webp", 600, 25_000), ("jpg", 300, 9_000), ("jpg", 600, 40_000), ("jpg", 1200, 150_000));

        PictureMarkup markup = PictureMarkupBuilder.Build(image, null, Array.Empty<MarkupAttribute>());

        Assert.Equal(new[] { "image/avif", "image/webp" }, markup.Sources.Select(s => s.Type));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(5_000L)]
    public void UnrecordedSizes_OrEqualWeights_KeepManifestOrder(long webpBytes)
    {
        // bytes 0: a manifest that does not record sizes; 5 000: as heavy as the AVIF.
        KoalaManifestImage image = Image(("avif", 300, 5_000), ("webp", 300, webpBytes), ("jpg", 300, 9_000));

        PictureMarkup markup = PictureMarkupBuilder.Build(image, null, Array.Empty<MarkupAttribute>());

        Assert.Equal(new[] { "image/avif", "image/webp" }, markup.Sources.Select(s => s.Type));
    }

    /// <summary>A manifest entry for /a.png with one variant per (format, width, bytes), in the order given.</summary>
    private static KoalaManifestImage Image(params (string Format, int? Width, long Bytes)[] variants) => new()
    {
        Path = "/a.png",
        Variants = variants
            .Select(v => new KoalaManifestVariant { Url = $"/a-{v.Width}w.{v.Format}", Format = v.Format, Width = v.Width, Height = v.Width / 2, Bytes = v.Bytes })
            .ToList(),
    };
}
