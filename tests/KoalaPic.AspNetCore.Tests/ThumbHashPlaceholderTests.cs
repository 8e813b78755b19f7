using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace KoalaPic.AspNetCore.Tests;

/// <summary>
/// Placeholder="thumbhash": the manifest carries the hash (base64) and the PNG KoalaPic.Build decoded from it; the
/// markup shows that PNG as the background (no script, no decoder here) and gives the raw hash as data-thumbhash.
/// </summary>
public sealed class ThumbHashPlaceholderTests : IDisposable
{
    private const string Hash = "1QcSHQRnh493V4dIh4eXh1h4kJUI";
    private const string DataUri = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAACAAAAAVCAIAAAC7/A==";
    private const string Style = "background-color:#8a7f6e;background-image:url(" + DataUri + ");background-size:cover;background-position:center;background-repeat:no-repeat";

    private const string Manifest = """
        {
          "version": 1,
          "images": [
            {
              "source": "wwwroot/img/hash.jpg",
              "path": "/img/hash.jpg",
              "placeholder": { "color": "#8a7f6e", "thumbhash": "1QcSHQRnh493V4dIh4eXh1h4kJUI", "thumbhash_data_uri": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAACAAAAAVCAIAAAC7/A==" },
              "variants": [
                { "url": "/img/hash-480w.webp", "format": "webp", "type": "image/webp", "width": 480, "height": 320, "bytes": 9000 },
                { "url": "/img/hash-480w.jpg", "format": "jpg", "type": "image/jpeg", "width": 480, "height": 320, "bytes": 20000 }
              ]
            }
          ]
        }
        """;

    private readonly TestApps apps = new(("TestApp.manifest.json", Manifest));

    private KoalaManifestImage Image()
    {
        Assert.True(App().Services.GetRequiredService<KoalaImageManifest>().TryGetImage("/img/hash.jpg", out KoalaManifestImage image));
        return image;
    }

    private TestApp App() => apps.Create();

    public void Dispose() => apps.Dispose();

    [Fact]
    public void Manifest_ReadsTheHashAndItsImage()
    {
        KoalaManifestPlaceholder placeholder = Image().Placeholder!;

        Assert.Equal(Hash, placeholder.ThumbHash);
        Assert.Equal(DataUri, placeholder.ThumbHashDataUri);
        Assert.Null(placeholder.Blur);
    }

    [Fact]
    public void TagHelper_ShowsTheDecodedImage_AndGivesTheRawHash()
    {
        List<Html.Element> elements = Html.Parse(App().RenderTagHelper("/img/hash.jpg", ("alt", "A koala")));

        Html.Element img = elements.Last();
        Assert.Equal("img", img.Name);
        Assert.Equal(Style, img["style"]);
        Assert.Equal(Hash, img["data-thumbhash"]);
    }

    [Fact]
    public async Task Component_RendersTheSameMarkupAsTheTagHelper()
    {
        TestApp app = App();

        string fromTagHelper = app.RenderTagHelper("/img/hash.jpg", ("alt", "A koala"), ("style", "margin:0"));
        string fromComponent = await app.RenderComponentAsync(new Dictionary<string, object?> { ["Src"] = "/img/hash.jpg", ["Alt"] = "A koala", ["style"] = "margin:0" });

        Assert.Equal(fromTagHelper, fromComponent);
        Html.Element img = Html.Parse(fromComponent).Last();
        Assert.Equal(Style + ";margin:0", img["style"]);
        Assert.Equal(Hash, img["data-thumbhash"]);
    }

    [Fact]
    public void AUserDataThumbhash_Wins_AndIsNotRepeated()
    {
        List<Html.Element> elements = Html.Parse(App().RenderTagHelper("/img/hash.jpg", ("alt", ""), ("data-thumbhash", "mine")));

        Assert.Equal("mine", elements.Last()["data-thumbhash"]);
        Assert.Single(PictureMarkupBuilder.Build(Image(), null, new[] { new MarkupAttribute("DATA-THUMBHASH", "mine") }).ImgAttributes,
            a => a.Name.Equals("data-thumbhash", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("\" onload=\"alert(1)")]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData("YWJj<script>")]
    public void AHostileHash_IsLeftOut(string hash)
    {
        var image = new KoalaManifestImage
        {
            Path = "/a.png",
            Placeholder = new KoalaManifestPlaceholder { ThumbHash = hash, ThumbHashDataUri = "javascript:alert(1)" },
            Variants = new() { new KoalaManifestVariant { Url = "/a.jpg", Format = "jpg", Width = 1, Height = 1 } },
        };

        PictureMarkup markup = PictureMarkupBuilder.Build(image, null, Array.Empty<MarkupAttribute>());

        Assert.DoesNotContain(markup.ImgAttributes, a => a.Name == "data-thumbhash" || a.Name == "style");
    }

    [Fact]
    public void ABlurAndAThumbHash_TheBlurIsTheBackground()
    {
        const string Blur = "data:image/webp;base64,UklGRh4AAABXRUJQVlA4+/8=";
        var image = new KoalaManifestImage
        {
            Path = "/a.png",
            Placeholder = new KoalaManifestPlaceholder { Blur = Blur, ThumbHash = Hash, ThumbHashDataUri = DataUri },
            Variants = new() { new KoalaManifestVariant { Url = "/a.jpg", Format = "jpg", Width = 1, Height = 1 } },
        };

        PictureMarkup markup = PictureMarkupBuilder.Build(image, null, Array.Empty<MarkupAttribute>());

        Assert.Contains("url(" + Blur + ")", markup.ImgAttributes.Single(a => a.Name == "style").Value);
    }
}
