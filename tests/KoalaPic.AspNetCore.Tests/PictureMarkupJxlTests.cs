using Xunit;

namespace KoalaPic.AspNetCore.Tests;

/// <summary>
/// Where image/jxl goes in &lt;picture&gt;: sources are ordered by their bytes, lightest first, so JXL comes first when
/// its files are the lightest and after a lighter format otherwise (a browser that shows both then takes the lighter).
/// </summary>
public sealed class PictureMarkupJxlTests
{
    private static KoalaManifestImage Image(long jxlBytes, long avifBytes, long webpBytes) => new()
    {
        Path = "/img/photo.jpg",
        Variants = new()
        {
            // Manifest order is the item's Format order: Format="avif;webp;jxl;jpg".
            new KoalaManifestVariant { Url = "/img/photo.avif", Format = "avif", Type = "image/avif", Width = 960, Height = 640, Bytes = avifBytes },
            new KoalaManifestVariant { Url = "/img/photo.webp", Format = "webp", Type = "image/webp", Width = 960, Height = 640, Bytes = webpBytes },
            new KoalaManifestVariant { Url = "/img/photo.jxl", Format = "jxl", Type = "image/jxl", Width = 960, Height = 640, Bytes = jxlBytes },
            new KoalaManifestVariant { Url = "/img/photo.jpg", Format = "jpg", Type = "image/jpeg", Width = 960, Height = 640, Bytes = 200_000 },
        },
    };

    [Fact]
    public void LightestJxl_IsTheFirstSource()
    {
        PictureMarkup markup = PictureMarkupBuilder.Build(Image(jxlBytes: 60_000, avifBytes: 70_000, webpBytes: 90_000), null, Array.Empty<MarkupAttribute>());

        Assert.Equal(new[] { "image/jxl", "image/avif", "image/webp" }, markup.Sources.Select(s => s.Type));
    }

    [Fact]
    public void JxlHeavierThanAvif_ComesAfterIt()
    {
        PictureMarkup markup = PictureMarkupBuilder.Build(Image(jxlBytes: 80_000, avifBytes: 70_000, webpBytes: 90_000), null, Array.Empty<MarkupAttribute>());

        Assert.Equal(new[] { "image/avif", "image/jxl", "image/webp" }, markup.Sources.Select(s => s.Type));
    }
}
