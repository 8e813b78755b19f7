using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using KoalaPic.Build.Tests;
using NetVips;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>
/// Art direction in a real browser: a fresh `dotnet new webapp` with a landscape (sharp's flowers.jpeg) as the default
/// image and a different picture, the Dutch flag cropped to portrait, for `(max-width: 600px)`. Chromium at two window
/// widths must pick the portrait variant when narrow and the default when wide, and draw it.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class ArtDirectionChromiumTests
{
    private const string Media = "(max-width: 600px)";
    private const int NarrowWidth = 400;
    private const int WideWidth = 1000;
    private const int WindowHeight = 700;

    private const string KoalaImages = """
        <ItemGroup>
          <PackageReference Include="KoalaPic.Build" Version="0.2.0" PrivateAssets="all" />
          <PackageReference Include="KoalaPic.AspNetCore" Version="0.2.0" />
          <KoalaImage Include="wwwroot/img/hero.jpg" Format="webp;jpg" Widths="480;960" />
          <KoalaImage Include="wwwroot/img/hero-portrait.png" Format="webp;jpg" Width="400" Height="600" Fit="cover" />
        </ItemGroup>
        <PropertyGroup>
          <!-- A .razor file makes the Web SDK download Microsoft.AspNetCore.App.Internal.Assets (blazor.web.js), which
               the offline test feed lacks; a statically rendered component needs no script. -->
          <RequiresAspNetWebAssets>false</RequiresAspNetWebAssets>
        </PropertyGroup>
        """;

    // The picture fills the window's width (its box keeps the chosen source's aspect ratio from the source's
    // width/height); the script reports what the browser chose, off screen so the screenshot shows only the picture.
    private const string HeroPage = """
        @page
        @{ Layout = null; }
        <!DOCTYPE html>
        <html><head><title>art direction</title></head>
        <body style="margin:0;background:#fff">
        <koala-img src="~/img/hero.jpg" alt="Flowers in bloom" id="hero" loading="eager" style="display:block;width:100%;height:auto">
            <koala-source media="(max-width: 600px)" src="~/img/hero-portrait.png" />
        </koala-img>
        <pre id="result" style="position:absolute;left:-10000px">pending</pre>
        <script>
          const img = document.getElementById('hero');
          const result = document.getElementById('result');
          function report() { result.textContent = JSON.stringify({ src: img.currentSrc, width: img.naturalWidth, height: img.naturalHeight }); }
          if (img.complete && img.naturalWidth > 0) report(); else img.addEventListener('load', report);
          img.addEventListener('error', () => { result.textContent = 'error ' + img.currentSrc; });
        </script>
        </body></html>
        """;

    private const string HeroComponent = """
        @using KoalaPic.AspNetCore
        <KoalaImg Src="img/hero.jpg" Alt="Flowers in bloom" id="hero" loading="eager" style="display:block;width:100%;height:auto">
            <KoalaSource Media="(max-width: 600px)" Src="img/hero-portrait.png" />
        </KoalaImg>
        """;

    private readonly PackageFixture package;

    public ArtDirectionChromiumTests(PackageFixture package) => this.package = package;

    [SkippableFact]
    public async Task KoalaSource_ChromiumPicksThePortraitWhenNarrow_AndTheDefaultWhenWide()
    {
        HeadlessChromium chromium = HeadlessChromium.Require();
        using TestProject project = TestProject.FromTemplate(package, "webapp", "ArtSite");
        project.AddImage("flowers.jpeg", "wwwroot/img/hero.jpg");
        project.AddImage("Flag_of_the_Netherlands-16bit.png", "wwwroot/img/hero-portrait.png");
        XDocumentEdit.AppendToProject(project.ProjectFile, KoalaImages);
        string pages = Path.Combine(project.Directory, "Pages");
        File.AppendAllText(Path.Combine(pages, "_ViewImports.cshtml"), "\n@addTagHelper *, KoalaPic.AspNetCore\n");
        File.WriteAllText(Path.Combine(pages, "Hero.cshtml"), HeroPage);
        File.WriteAllText(Path.Combine(pages, "HeroComponent.cshtml"), "@page\n<component type=\"typeof(ArtSite.HeroImage)\" render-mode=\"Static\" />\n");
        File.WriteAllText(Path.Combine(project.Directory, "HeroImage.razor"), HeroComponent);

        DotNetResult build = project.Build();
        Assert.True(build.Succeeded, build.ToString());
        using WebAppHost app = WebAppHost.Run(project, package.Environment);

        // The markup: the portrait's own set (its media, its own 400×600), then the default's sources and the img.
        string html = await AspNetCoreAppTests.GetPage(app, "/Hero");
        List<(string Name, Dictionary<string, string> Attributes)> tags = PictureTags(html);
        List<Dictionary<string, string>> portraitSources = tags.Where(t => t.Name == "source" && t.Attributes.ContainsKey("media")).Select(t => t.Attributes).ToList();
        Assert.NotEmpty(portraitSources);
        Assert.All(tags.Take(portraitSources.Count), t => Assert.True(t.Name == "source" && t.Attributes.ContainsKey("media"), "the portrait's sources come first"));
        Assert.All(portraitSources, s => Assert.Equal((Media, "400", "600"), (s["media"], s["width"], s["height"])));
        Assert.All(portraitSources, s => Assert.Matches("^/img/hero-portrait\\.(webp|jpg)$", s["srcset"]));
        Assert.Contains(portraitSources, s => s["type"] == "image/jpeg");
        Dictionary<string, string> img = tags[^1].Attributes;
        Assert.Equal(("/img/hero-960w.jpg", "960", "540"), (img["src"], img["width"], img["height"]));

        // The Blazor component in a .razor file, with a <KoalaSource> child, renders the same picture.
        Assert.Equal(tags.Select(Text), PictureTags(await AspNetCoreAppTests.GetPage(app, "/HeroComponent")).Select(Text));

        // What Chromium chose: the first portrait source it decodes when narrow; the default's 960 px candidate when wide.
        Uri page = new(app.BaseAddress, "/Hero");
        Dictionary<string, string> firstDefault = tags.First(t => t.Name != "source" || !t.Attributes.ContainsKey("media")).Attributes;
        string wideUrl = Regex.Match(firstDefault["srcset"], "(\\S+) 960w").Groups[1].Value;
        Assert.NotEqual("", wideUrl);
        Assert.Equal((new Uri(app.BaseAddress, portraitSources[0]["srcset"]).ToString(), 400, 600), Chosen(chromium.DumpDom(page, NarrowWidth, WindowHeight)));
        // A w-descriptor candidate's natural size is its pixel size over its density: 960w for sizes 100vw in a
        // 1000 px window is 0.96 px per CSS px, so 960×540 counts as 1000×562.
        Assert.Equal((new Uri(app.BaseAddress, wideUrl).ToString(), WideWidth, 540 * WideWidth / 960), Chosen(chromium.DumpDom(page, WideWidth, WindowHeight)));

        // What it drew: narrow, the flag's stripes 400 px wide and 600 px tall; wide, flowers.jpeg across the window.
        KoalaPic.Build.Engine.VipsRuntime.EnsureInitialized();
        ScreenshotUntilDrawn(chromium, page, Path.Combine(project.Directory, "art-direction-narrow"), NarrowWidth, shot =>
        {
            AspNetCoreAppTests.AssertPixel(shot, 200, 100, (174, 28, 40), "red stripe");
            AspNetCoreAppTests.AssertPixel(shot, 200, 300, (255, 255, 255), "white stripe");
            AspNetCoreAppTests.AssertPixel(shot, 200, 500, (33, 70, 139), "blue stripe");
            AspNetCoreAppTests.AssertPixel(shot, 200, 650, (255, 255, 255), "the page below the 600 px tall portrait");
        });

        using Image flowers = Image.NewFromFile(Path.Combine(project.ObjOutputDirectory, "wwwroot", "img", Path.GetFileName(wideUrl)));
        ScreenshotUntilDrawn(chromium, page, Path.Combine(project.Directory, "art-direction-wide"), WideWidth, shot =>
        {
            // The 960 px variant drawn 1000 px wide (1000×563 at its aspect ratio): the screenshot looks like the variant
            // scaled, and the page below it is white.
            using Image drawn = shot.ExtractArea(0, 0, WideWidth, 560).ExtractBand(0, 3);
            using Image expected = flowers.Resize(WideWidth / 960.0).ExtractArea(0, 0, WideWidth, 560).ExtractBand(0, 3);
            using Image difference = (drawn.Cast(Enums.BandFormat.Short) - expected.Cast(Enums.BandFormat.Short)).Abs();
            double meanDifference = difference.Avg();
            Assert.True(meanDifference < 12, $"the wide screenshot differs from the flowers variant by {meanDifference:F1} per channel on average");
            AspNetCoreAppTests.AssertPixel(shot, 500, 650, (255, 255, 255), "the page below the landscape picture");
        });
    }

    /// <summary>
    /// Takes a screenshot and checks it, up to three times. Headless Chromium's --screenshot can capture before an image
    /// that has loaded is painted (seen once in CI under load: a white frame where the flowers belong), while
    /// <see cref="HeadlessChromium.DumpDom(Uri, int, int)"/> above has already shown what the browser chose. A wrong
    /// picture fails every attempt. Each attempt writes its own file (the PNGs stay in the project folder, kept with
    /// KOALAPIC_KEEP_TEST_PROJECTS=1), also because libvips caches an opened file by its name.
    /// </summary>
    private static void ScreenshotUntilDrawn(HeadlessChromium chromium, Uri page, string pathWithoutExtension, int width, Action<Image> check)
    {
        const int Attempts = 3;
        for (int attempt = 1; ; attempt++)
        {
            string path = $"{pathWithoutExtension}-{attempt}.png";
            chromium.Screenshot(page, path, width, WindowHeight);
            try
            {
                using Image shot = Image.NewFromFile(path);
                check(shot);
                return;
            }
            catch (Xunit.Sdk.XunitException failure) when (attempt < Attempts)
            {
                TestLog.Write($"ArtDirectionChromiumTests: screenshot {attempt} at {width} px: {failure.Message}; taking it again");
            }
        }
    }

    private static (string Src, int Width, int Height) Chosen(string dom)
    {
        Match result = Regex.Match(dom, "<pre id=\"result\"[^>]*>(.*?)</pre>", RegexOptions.Singleline);
        Assert.True(result.Success, dom);
        using JsonDocument chosen = JsonDocument.Parse(WebUtility.HtmlDecode(result.Groups[1].Value));
        return (chosen.RootElement.GetProperty("src").GetString()!, chosen.RootElement.GetProperty("width").GetInt32(), chosen.RootElement.GetProperty("height").GetInt32());
    }

    /// <summary>The &lt;source&gt; and &lt;img&gt; tags of the page's one &lt;picture&gt;, attributes decoded.</summary>
    private static List<(string Name, Dictionary<string, string> Attributes)> PictureTags(string html)
    {
        MatchCollection pictures = Regex.Matches(html, "<picture\\b[^>]*>(.*?)</picture>", RegexOptions.Singleline | RegexOptions.IgnoreCase);
        Assert.True(pictures.Count == 1, $"expected one <picture> in:\n{html}");
        var tags = Regex.Matches(pictures[0].Groups[1].Value, "<(source|img)\\b([^>]*)>", RegexOptions.IgnoreCase)
            .Select(t => (Name: t.Groups[1].Value.ToLowerInvariant(), Attributes: Regex.Matches(t.Groups[2].Value, "([A-Za-z_:][-A-Za-z0-9_:.]*)\\s*=\\s*\"([^\"]*)\"")
                .ToDictionary(m => m.Groups[1].Value.ToLowerInvariant(), m => WebUtility.HtmlDecode(m.Groups[2].Value))))
            .ToList();
        Assert.Equal("img", tags[^1].Name);
        return tags;
    }

    private static string Text((string Name, Dictionary<string, string> Attributes) tag) =>
        tag.Name + string.Concat(tag.Attributes.Select(a => $" {a.Key}=\"{a.Value}\""));
}
