using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using NetVips;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>
/// ASP.NET Core as a new user meets it: a fresh `dotnet new webapp`, images under wwwroot/img, both packages from the
/// test feed, `@addTagHelper` and one `&lt;koala-img&gt;` line. The app runs on a loopback port; its variants are
/// fetched over HTTP, and Debian's Chromium shows which source it chose and what it drew.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class AspNetCoreAppTests
{
    private string KoalaImages => $"""
        <ItemGroup>
          <PackageReference Include="KoalaPic.Build" Version="{package.Version}" PrivateAssets="all" />
          <PackageReference Include="KoalaPic.AspNetCore" Version="{package.Version}" />
          <KoalaImage Include="wwwroot/img/flowers.jpg" Format="avif;webp;jpg" Widths="480;960" Placeholder="blur" />
          <KoalaImage Include="wwwroot/img/flag.png" Format="avif;webp;png" Widths="300;600" Placeholder="color" />
          <KoalaImage Include="wwwroot/img/nebula.avif" Format="webp;jpg" Widths="240" Placeholder="thumbhash" />
        </ItemGroup>
        <PropertyGroup>
          <KoalaPicServeManifest>true</KoalaPicServeManifest>
        </PropertyGroup>
        """;

    // A page of its own for the browser: no layout, the flag at the top left laid out 300 px wide (its width/height
    // attributes give the largest variant's 600×400, as they should, for the aspect ratio), and a script that writes
    // what the browser chose.
    private const string FlagPage = """
        @page
        @{ Layout = null; }
        <!DOCTYPE html>
        <html><head><title>flag</title></head>
        <body style="margin:0;background:#fff">
        <koala-img src="~/img/flag.png" alt="Flag of the Netherlands" sizes="300px" id="flag" style="display:block;width:300px;height:auto" />
        <pre id="result">pending</pre>
        <script>
          const img = document.getElementById('flag');
          const result = document.getElementById('result');
          function report() { result.textContent = JSON.stringify({ src: img.currentSrc, width: img.naturalWidth, height: img.naturalHeight }); }
          if (img.complete && img.naturalWidth > 0) report(); else img.addEventListener('load', report);
          img.addEventListener('error', () => { result.textContent = 'error ' + img.currentSrc; });
        </script>
        </body></html>
        """;

    private readonly PackageFixture package;

    public AspNetCoreAppTests(PackageFixture package) => this.package = package;

    [SkippableFact]
    public async Task NewWebApp_DotnetRun_ServesEveryVariant_RendersPicture_AndChromiumShowsTheAvif()
    {
        HeadlessChromium chromium = HeadlessChromium.Require();
        using TestProject project = NewImageSite();

        DotNetResult build = project.Build();
        Assert.True(build.Succeeded, build.ToString());
        Assert.StartsWith("KoalaPic: 14 images, 14 converted, ", build.Summary);

        using WebAppHost app = WebAppHost.Run(project, package.Environment);
        JsonElement[] images = ReadManifest(Path.Combine(project.BinDirectory, "koalapic", project.Name + ".manifest.json"));
        Assert.Equal(new[] { "/img/flowers.jpg", "/img/flag.png", "/img/nebula.avif" }, images.Select(i => i.GetProperty("path").GetString()));
        await AssertEveryVariantIsServed(app, images, url => Path.Combine(project.ObjOutputDirectory, "wwwroot", url.TrimStart('/')));

        // KoalaPicServeManifest: the manifest itself, for client-side code.
        using (HttpResponseMessage served = await app.Client.GetAsync("/_koalapic/manifest.json"))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            Assert.Equal("application/json", served.Content.Headers.ContentType?.MediaType);
            Assert.Equal(
                File.ReadAllBytes(Path.Combine(project.Directory, "obj", "Debug", "net10.0", "koalapic", "koalapic.manifest.json")),
                await served.Content.ReadAsByteArrayAsync());
        }

        // The one line in Index.cshtml renders <picture>: avif and webp sources, lightest first by the manifest's bytes;
        // the jpg fallback in <img>, at its intrinsic size.
        string index = await GetPage(app, "/");
        var (sources, img) = Picture(index, "Flowers in bloom");
        Assert.Equal(SourceTypesLightestFirst(images[0], "jpg"), sources.Select(s => s["type"]));
        Assert.NotEmpty(sources);
        Assert.All(sources, s => Assert.Equal($"/img/flowers-480w.{s["type"][6..]} 480w, /img/flowers-960w.{s["type"][6..]} 960w", Normalize(s["srcset"])));
        Assert.All(sources, s => Assert.Equal("(max-width: 600px) 100vw, 50vw", s["sizes"]));
        Assert.Equal("/img/flowers-960w.jpg", img["src"]);
        Assert.Equal("/img/flowers-480w.jpg 480w, /img/flowers-960w.jpg 960w", Normalize(img["srcset"]));
        Assert.Equal(("960", "540"), (img["width"], img["height"]));
        Assert.Equal(("lazy", "async"), (img["loading"], img["decoding"]));
        Assert.Matches(@"background-image:\s*url\(['""]?data:image/", img["style"]);

        // The Blazor component, rendered statically in a Razor page, gives the same <picture>.
        string component = await GetPage(app, "/Component");
        var (componentSources, componentImg) = Picture(component, "Flowers in bloom");
        Assert.Equal(sources.Select(s => Normalize(s["srcset"])), componentSources.Select(s => Normalize(s["srcset"])));
        Assert.Equal((img["src"], img["width"], img["height"]), (componentImg["src"], componentImg["width"], componentImg["height"]));

        // Placeholder="thumbhash": the manifest's hash is the picture's, its data URI is that hash decoded, and both
        // the tag helper and the component hand them to the page.
        JsonElement nebula = images[2];
        (string hash, string dataUri) = AssertThumbHashDescribes(nebula, Path.Combine(project.Directory, "wwwroot", "img", "nebula.avif"));
        foreach (string page in new[] { index, component })
        {
            var (_, nebulaImg) = Picture(page, "A nebula");
            Assert.Equal(hash, nebulaImg["data-thumbhash"]);
            Assert.Contains(dataUri, nebulaImg["style"], StringComparison.Ordinal);
        }

        // In Development a <koala-img> without a manifest entry is an error that names the file.
        using HttpResponseMessage missing = await app.Client.GetAsync("/Missing");
        Assert.Equal(HttpStatusCode.InternalServerError, missing.StatusCode);
        Assert.Contains("img/missing.png", WebUtility.HtmlDecode(await missing.Content.ReadAsStringAsync()));

        // Chromium picks the AVIF source at 300 px (sizes="300px", scale factor 1) and decodes it at its intrinsic size.
        Uri flagPage = new(app.BaseAddress, "/Flag");
        string dom = chromium.DumpDom(flagPage);
        Match result = Regex.Match(dom, "<pre id=\"result\">(.*?)</pre>", RegexOptions.Singleline);
        Assert.True(result.Success, dom);
        using JsonDocument chosen = JsonDocument.Parse(WebUtility.HtmlDecode(result.Groups[1].Value));
        Assert.Equal(new Uri(app.BaseAddress, "/img/flag-300w.avif").ToString(), chosen.RootElement.GetProperty("src").GetString());
        Assert.Equal((300, 200), (chosen.RootElement.GetProperty("width").GetInt32(), chosen.RootElement.GetProperty("height").GetInt32()));

        // What it drew: the flag's three stripes in their colours, exactly 300 px wide, white page beside it.
        string screenshot = Path.Combine(project.Directory, "flag.png");
        chromium.Screenshot(flagPage, screenshot, 400, 300);
        KoalaPic.Build.Engine.VipsRuntime.EnsureInitialized();
        using Image shot = Image.NewFromFile(screenshot);
        AssertPixel(shot, 150, 33, (174, 28, 40), "red stripe");
        AssertPixel(shot, 150, 100, (255, 255, 255), "white stripe");
        AssertPixel(shot, 150, 166, (33, 70, 139), "blue stripe");
        AssertPixel(shot, 296, 166, (33, 70, 139), "the flag's right edge (300 px wide)");
        AssertPixel(shot, 304, 166, (255, 255, 255), "the page beside the flag");
    }

    [Fact]
    public async Task NewWebApp_Publish_ShipsVariantsInWwwroot_WithoutSources_AndServesThemInProduction()
    {
        using TestProject project = NewImageSite();
        string published = Path.Combine(project.Directory, "published");

        DotNetResult publish = project.Publish("-o", published, "-p:KoalaPicPublishSources=false");

        Assert.True(publish.Succeeded, publish.ToString());
        string webRoot = Path.Combine(published, "wwwroot", "img");
        foreach (var (file, loader, width) in new[]
        {
            ("flowers-480w.avif", "VipsForeignLoadHeifBuffer", 480), ("flowers-960w.webp", "VipsForeignLoadWebpBuffer", 960),
            ("flowers-960w.jpg", "VipsForeignLoadJpegBuffer", 960), ("flag-300w.avif", "VipsForeignLoadHeifBuffer", 300),
            ("flag-600w.png", "VipsForeignLoadPngBuffer", 600),
        })
        {
            ImageFile output = ImageFile.Read(Path.Combine(webRoot, file));
            Assert.Equal((loader, width), (output.Loader, output.Width));
        }

        Assert.False(File.Exists(Path.Combine(webRoot, "flowers.jpg")), "KoalaPicPublishSources=false must leave the source out of publish");
        Assert.False(File.Exists(Path.Combine(webRoot, "flag.png")), "KoalaPicPublishSources=false must leave the source out of publish");
        Assert.True(File.Exists(Path.Combine(published, "wwwroot", "_koalapic", "manifest.json")), "KoalaPicServeManifest publishes the manifest");
        Assert.DoesNotContain(Directory.GetFiles(published, "*", SearchOption.AllDirectories), f =>
            Path.GetFileName(f).Contains("vips", StringComparison.OrdinalIgnoreCase) || Path.GetFileName(f).StartsWith("KoalaPic.Build", StringComparison.Ordinal));

        using WebAppHost app = WebAppHost.RunInProduction(published, project.Name);
        JsonElement[] images = ReadManifest(Path.Combine(published, "koalapic", project.Name + ".manifest.json"));
        await AssertEveryVariantIsServed(app, images, url => Path.Combine(published, "wwwroot", url.TrimStart('/')));

        var (sources, img) = Picture(await GetPage(app, "/"), "Flowers in bloom");
        Assert.Equal(SourceTypesLightestFirst(images[0], "jpg"), sources.Select(s => s["type"]));
        Assert.Equal("/img/flowers-960w.jpg", img["src"]);

        // In production a missing entry is the plain <img>, not an error page.
        string missing = await GetPage(app, "/Missing");
        Assert.Matches("<img[^>]*src=\"/img/missing.png\"", missing);
    }

    /// <summary>
    /// The build output outside Development (issue 18: every variant was HTTP 500 there). ASP.NET Core maps the files of
    /// static web assets outside wwwroot/ only in Development; the hosting startup KoalaPic.Build adds maps them in every
    /// environment, so the variants (and the SDK's own scoped CSS bundle) are served from obj/ as in Development.
    /// </summary>
    [Fact]
    public async Task NewWebApp_BuildOutputInProduction_ServesEveryVariant()
    {
        using TestProject project = NewImageSite();
        DotNetResult build = project.Build();
        Assert.True(build.Succeeded, build.ToString());
        JsonElement[] images = ReadManifest(Path.Combine(project.BinDirectory, "koalapic", project.Name + ".manifest.json"));
        string ObjFile(string url) => Path.Combine(project.ObjOutputDirectory, "wwwroot", url.TrimStart('/'));

        // `dotnet run --no-launch-profile`: Production, content root the project folder.
        using (WebAppHost app = WebAppHost.RunBuildOutputInProduction(project, package.Environment))
        {
            await AssertRunsInProduction(app);
            await AssertEveryVariantIsServed(app, images, ObjFile);
            using HttpResponseMessage styles = await app.Client.GetAsync($"/{project.Name}.styles.css");
            Assert.True(styles.StatusCode == HttpStatusCode.OK, $"GET /{project.Name}.styles.css: {(int)styles.StatusCode}\n{app.Output}");
        }

        // `dotnet ShopSite.dll` in bin/Debug/net10.0/: Production, content root the bin folder (no wwwroot/ there).
        using (WebAppHost app = WebAppHost.RunInProduction(project.BinDirectory, project.Name))
        {
            await AssertRunsInProduction(app);
            await AssertEveryVariantIsServed(app, images, ObjFile);
        }

        // Production's proof: a <koala-img> without a manifest entry is the plain <img>; in Development it is an error page.
        static async Task AssertRunsInProduction(WebAppHost app) =>
            Assert.Matches("<img[^>]*src=\"/img/missing.png\"", await GetPage(app, "/Missing"));
    }

    /// <summary>
    /// Corpus photos and graphics as avif, webp and a jpg/png fallback at two widths, at the default Quality: whichever
    /// format this build made lighter, no &lt;picture&gt; the tag helper or the component renders offers a heavier one
    /// first, none offers a format heavier than the fallback at every width, and none leaves out a format that is not.
    /// </summary>
    [Fact]
    public async Task CorpusImages_NoRenderedPictureOffersAHeavierFormatFirst()
    {
        using TestProject project = TestProject.FromTemplate(package, "webapp", "CorpusSite");
        var images = new (string Corpus, string Name, string Fallback)[]
        {
            ("flowers.jpeg", "flowers", "jpg"), ("2569067123_aca715a2ee_o.jpg", "street", "jpg"), ("Landscape_1.jpg", "landscape", "jpg"),
            ("concert.jpg", "concert", "jpg"), ("Channel_digital_image_CMYK_color.jpg", "cmyk", "jpg"),
            ("Flag_of_the_Netherlands-16bit.png", "flag", "png"), ("gradients-rgb8.png", "gradients", "png"),
        };
        var tagHelpers = new StringBuilder();
        var components = new StringBuilder("@page\n");
        foreach (var (corpus, name, fallback) in images)
        {
            string extension = fallback == "jpg" ? ".jpg" : ".png";
            project.AddImage(corpus, $"wwwroot/img/{name}{extension}");
            tagHelpers.Append($"\n<koala-img src=\"~/img/{name}{extension}\" alt=\"{name}\" />");
            components.Append($"<component type=\"typeof(KoalaPic.AspNetCore.KoalaImg)\" render-mode=\"Static\" param-Src=\"@(\"img/{name}{extension}\")\" param-Alt=\"@(\"{name}\")\" />\n");
        }

        XDocumentEdit.AppendToProject(project.ProjectFile, """
            <ItemGroup>
              <PackageReference Include="KoalaPic.Build" Version="0.2.0" PrivateAssets="all" />
              <PackageReference Include="KoalaPic.AspNetCore" Version="0.2.0" />
              <KoalaImage Include="wwwroot/img/*.jpg" Format="avif;webp;jpg" Widths="200;400" />
              <KoalaImage Include="wwwroot/img/*.png" Format="avif;webp;png" Widths="200;400" />
            </ItemGroup>
            """);
        string pages = Path.Combine(project.Directory, "Pages");
        File.AppendAllText(Path.Combine(pages, "_ViewImports.cshtml"), "\n@addTagHelper *, KoalaPic.AspNetCore\n");
        File.AppendAllText(Path.Combine(pages, "Index.cshtml"), tagHelpers.ToString());
        File.WriteAllText(Path.Combine(pages, "Component.cshtml"), components.ToString());
        DotNetResult build = project.Build();
        Assert.True(build.Succeeded, build.ToString());

        // Every variant by URL, with its image's name (wwwroot/img/flag.png → flag).
        Dictionary<string, (string Image, string Format, int Width, long Bytes)> variants = ReadManifest(Path.Combine(project.BinDirectory, "koalapic", project.Name + ".manifest.json"))
            .SelectMany(i => i.GetProperty("variants").EnumerateArray().Select(v => (Image: Path.GetFileNameWithoutExtension(i.GetProperty("path").GetString()!), Variant: v)))
            .ToDictionary(
                v => v.Variant.GetProperty("url").GetString()!,
                v => (v.Image, v.Variant.GetProperty("format").GetString()!, v.Variant.GetProperty("width").GetInt32(), v.Variant.GetProperty("bytes").GetInt64()));
        using WebAppHost app = WebAppHost.Run(project, package.Environment);
        int sourcesSeen = 0;
        foreach (string page in new[] { "/", "/Component" })
        {
            string html = await GetPage(app, page);
            foreach (var (_, name, fallback) in images)
            {
                var (sources, img) = Picture(html, name);
                string where = $"{page} {name}: <source>s {string.Join(", ", sources.Select(s => s["type"]))}, manifest {string.Join(", ", variants.Values.Where(v => v.Image == name).Select(v => $"{v.Format} {v.Width}w {v.Bytes} B"))}";
                Dictionary<int, long> fallbackBytes = Candidates(img["srcset"]).ToDictionary(c => variants[c].Width, c => variants[c].Bytes);
                Assert.Equal(fallback, variants[img["src"]].Format);

                // Each rendered format's bytes by width, in the order of the <source>s.
                List<(string Format, Dictionary<int, long> Bytes)> offered = sources
                    .Select(s => Candidates(s["srcset"]).Select(c => variants[c]).ToList())
                    .Select(vs => (vs[0].Format, vs.ToDictionary(v => v.Width, v => v.Bytes)))
                    .ToList();
                HashSet<int> shared = offered.Count == 0 ? new() : offered.Skip(1).Aggregate(new HashSet<int>(offered[0].Bytes.Keys), (s, o) => { s.IntersectWith(o.Bytes.Keys); return s; });
                long Weight(Dictionary<int, long> bytes) => shared.Count > 0 ? shared.Sum(w => bytes[w]) : bytes.Values.Sum();
                for (int i = 1; i < offered.Count; i++)
                {
                    Assert.True(Weight(offered[i - 1].Bytes) <= Weight(offered[i].Bytes), $"a heavier format first: {where}");
                }

                Assert.All(offered, o => Assert.False(HeavierAtEveryWidth(o.Bytes, fallbackBytes), $"{o.Format} is heavier than the fallback at every width: {where}"));
                foreach (string format in new[] { "avif", "webp" }.Except(offered.Select(o => o.Format)))
                {
                    Dictionary<int, long> bytes = variants.Values.Where(v => v.Format == format && v.Image == name).ToDictionary(v => v.Width, v => v.Bytes);
                    Assert.True(HeavierAtEveryWidth(bytes, fallbackBytes), $"{format} left out though not heavier than the fallback at every width: {where}");
                }

                sourcesSeen += offered.Count;
            }
        }

        Assert.True(sourcesSeen > 0, "no <picture> had a <source>: nothing was compared");

        static IEnumerable<string> Candidates(string srcset) => srcset.Split(',').Select(c => c.Trim().Split(' ')[0]);
    }

    [Fact]
    public async Task RazorClassLibrary_ConvertedImagesReachTheAppUnderContent()
    {
        using TestProject app = TestProject.FromTemplate(package, "web", "ShopApp");
        using var ui = new SiblingLibrary(package, app, "ShopUi");
        string library = ui.Folder, libraryProject = ui.ProjectFile;
        // KoalaPic.Build and an image in the app too, to see the app keeps KoalaPicServeManifest off while the library has it on.
        app.AddImage("flowers.jpeg", "wwwroot/hero.jpg");
        XDocumentEdit.AppendToProject(app.ProjectFile, $"""
            <ItemGroup>
              <ProjectReference Include="{libraryProject}" />
              <PackageReference Include="KoalaPic.Build" Version="{package.Version}" PrivateAssets="all" />
              <KoalaImage Include="wwwroot/hero.jpg" Format="webp" Widths="320" />
            </ItemGroup>
            """);
        string program = Path.Combine(app.Directory, "Program.cs");
        File.WriteAllText(program, File.ReadAllText(program).Replace("app.MapGet(", "app.MapStaticAssets();\napp.MapGet(", StringComparison.Ordinal));
        DotNetResult build = app.Build();
        Assert.True(build.Succeeded, build.ToString());

        JsonElement[] images = ReadManifest(Path.Combine(app.BinDirectory, "koalapic", "ShopUi.manifest.json"));
        JsonElement banner = Assert.Single(images);
        Assert.Equal("/_content/ShopUi/banner.jpg", banner.GetProperty("path").GetString());
        Assert.Equal(
            new[] { "/_content/ShopUi/banner.avif", "/_content/ShopUi/banner.webp" },
            banner.GetProperty("variants").EnumerateArray().Select(v => v.GetProperty("url").GetString()));

        // A Razor class library (OutputType Library) serves its manifest by default; an app (Exe) does not.
        Assert.Equal("true", GetProperty(libraryProject, "KoalaPicServeManifest"));
        Assert.Equal("false", GetProperty(app.ProjectFile, "KoalaPicServeManifest"));

        using WebAppHost host = WebAppHost.Run(app, package.Environment);
        await AssertEveryVariantIsServed(host, images, url => Path.Combine(library, "obj", "Debug", "net10.0", "koalapic", "out", "wwwroot", url.Substring("/_content/ShopUi/".Length)));
        using (HttpResponseMessage served = await host.Client.GetAsync("/_content/ShopUi/_koalapic/manifest.json"))
        {
            Assert.True(served.StatusCode == HttpStatusCode.OK, $"GET /_content/ShopUi/_koalapic/manifest.json: {(int)served.StatusCode}\n{host.Output}");
            Assert.Equal(File.ReadAllBytes(Path.Combine(library, "obj", "Debug", "net10.0", "koalapic", "koalapic.manifest.json")), await served.Content.ReadAsByteArrayAsync());
        }

        using (HttpResponseMessage notServed = await host.Client.GetAsync("/_koalapic/manifest.json"))
        {
            Assert.Equal(HttpStatusCode.NotFound, notServed.StatusCode);
        }
    }

    [Fact]
    public async Task RazorClassLibraryPackage_KoalaImgFindsItsImagesThroughTheServedManifest()
    {
        using TestProject app = TestProject.FromTemplate(package, "webapp", "ShopSite");
        // A package id of its own: the test feed and the packages folder are shared by the whole collection.
        string name = "ShelfUi" + Guid.NewGuid().ToString("N").Substring(0, 8);
        using var ui = new SiblingLibrary(package, app, name);
        string library = ui.Folder;
        DotNetResult pack = DotNet.Run(library, package.Environment, "pack", "-o", package.FeedDirectory, "-p:PackageVersion=1.0.0", "-nodeReuse:false");
        Assert.True(pack.Succeeded, pack.ToString());
        string nupkg = Path.Combine(package.FeedDirectory, name + ".1.0.0.nupkg");
        using (System.IO.Compression.ZipArchive zip = System.IO.Compression.ZipFile.OpenRead(nupkg))
        {
            string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
            Assert.Contains("staticwebassets/_koalapic/manifest.json", entries);
            Assert.Contains("staticwebassets/banner.avif", entries);
            Assert.Contains("staticwebassets/banner.webp", entries);
        }

        // The app has no KoalaPic.Build and no ProjectReference: only the packages.
        XDocumentEdit.AppendToProject(app.ProjectFile, $"""
            <ItemGroup>
              <PackageReference Include="{name}" Version="1.0.0" />
              <PackageReference Include="KoalaPic.AspNetCore" Version="{package.Version}" />
            </ItemGroup>
            """);
        string pages = Path.Combine(app.Directory, "Pages");
        File.AppendAllText(Path.Combine(pages, "_ViewImports.cshtml"), "\n@addTagHelper *, KoalaPic.AspNetCore\n");
        File.AppendAllText(Path.Combine(pages, "Index.cshtml"), $"\n<koala-img src=\"~/_content/{name}/banner.jpg\" alt=\"Banner\" />\n");
        DotNetResult build = app.Build();
        Assert.True(build.Succeeded, build.ToString());
        Assert.False(Directory.Exists(Path.Combine(app.BinDirectory, "koalapic")), "the app has a bin/koalapic/ folder: the test would not show the served manifest is read");

        using WebAppHost host = WebAppHost.Run(app, package.Environment);
        (List<Dictionary<string, string>> sources, Dictionary<string, string> img) = Picture(await GetPage(host, "/"), "Banner");
        // avif;webp at one width: an AVIF <source> and the WebP fallback <img>, both from the package's manifest.
        Dictionary<string, string> avif = Assert.Single(sources);
        Assert.Equal("image/avif", avif["type"]);
        Assert.Equal($"/_content/{name}/banner.avif", avif["srcset"]);
        Assert.Equal($"/_content/{name}/banner.webp", img["src"]);
        Assert.Equal("320", img["width"]);
        Assert.Equal("180", img["height"]);
        foreach ((string url, string type) in new[] { ($"/_content/{name}/banner.avif", "image/avif"), ($"/_content/{name}/banner.webp", "image/webp") })
        {
            using HttpResponseMessage response = await host.Client.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode}\n{host.Output}");
            Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
            Assert.True((await response.Content.ReadAsByteArrayAsync()).Length > 0, $"GET {url}: empty body");
        }
    }

    /// <summary>
    /// A `dotnet new razorclasslib` beside the app, with KoalaPic.Build and one image (wwwroot/banner.jpg as avif and
    /// webp, 320 px). Both projects also restore from the machine's NuGet source: the library needs Components.Web.
    /// </summary>
    private sealed class SiblingLibrary : IDisposable
    {
        public SiblingLibrary(PackageFixture package, TestProject app, string name)
        {
            Folder = Path.Combine(app.Directory, "..", Path.GetFileName(app.Directory) + "-" + name);
            ProjectFile = Path.Combine(Folder, name + ".csproj");
            DotNetResult created = DotNet.Run(app.Directory, package.Environment, "new", "razorclasslib", "-n", name, "-o", Folder, "--no-restore");
            Assert.True(created.Succeeded, created.ToString());
            File.Copy(Paths.Fixture("flowers.jpeg"), Path.Combine(Folder, "wwwroot", "banner.jpg"));
            XDocumentEdit.AppendToProject(ProjectFile, $"""
                <ItemGroup>
                  <PackageReference Include="KoalaPic.Build" Version="{package.Version}" PrivateAssets="all" />
                  <KoalaImage Include="wwwroot/banner.jpg" Format="avif;webp" Widths="320" />
                  <!-- The test's nuget.config is not part of the library's package. -->
                  <Content Remove="nuget.config" />
                </ItemGroup>
                """);
            string nugetConfig = File.ReadAllText(Path.Combine(app.Directory, "nuget.config")).Replace("<clear />", "", StringComparison.Ordinal);
            File.WriteAllText(Path.Combine(Folder, "nuget.config"), nugetConfig);
            File.WriteAllText(Path.Combine(app.Directory, "nuget.config"), nugetConfig);
        }

        public string Folder { get; }

        public string ProjectFile { get; }

        public void Dispose()
        {
            if (!TestProject.KeepForInspection)
            {
                try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
            }
        }
    }

    /// <summary>A fresh `dotnet new webapp` with two real images, both packages, the tag helpers and the pages the tests open.</summary>
    private TestProject NewImageSite()
    {
        TestProject project = TestProject.FromTemplate(package, "webapp", "ShopSite");
        project.AddImage("flowers.jpeg", "wwwroot/img/flowers.jpg");
        project.AddImage("Flag_of_the_Netherlands-16bit.png", "wwwroot/img/flag.png");
        XDocumentEdit.AppendToProject(project.ProjectFile, KoalaImages);
        string pages = Path.Combine(project.Directory, "Pages");
        File.AppendAllText(Path.Combine(pages, "_ViewImports.cshtml"), "\n@addTagHelper *, KoalaPic.AspNetCore\n");
        project.AddImage("sdr_cosmos12920_cicp1-13-6_yuv444_full_qp10.avif", "wwwroot/img/nebula.avif");
        File.AppendAllText(Path.Combine(pages, "Index.cshtml"), "\n<koala-img src=\"~/img/flowers.jpg\" alt=\"Flowers in bloom\" sizes=\"(max-width: 600px) 100vw, 50vw\" />\n<koala-img src=\"~/img/nebula.avif\" alt=\"A nebula\" />\n");
        File.WriteAllText(Path.Combine(pages, "Flag.cshtml"), FlagPage);
        File.WriteAllText(Path.Combine(pages, "Component.cshtml"), """
            @page
            <component type="typeof(KoalaPic.AspNetCore.KoalaImg)" render-mode="Static" param-Src="@("img/flowers.jpg")" param-Alt="@("Flowers in bloom")" param-Sizes="@("(max-width: 600px) 100vw, 50vw")" />
            <component type="typeof(KoalaPic.AspNetCore.KoalaImg)" render-mode="Static" param-Src="@("img/nebula.avif")" param-Alt="@("A nebula")" />
            """);
        File.WriteAllText(Path.Combine(pages, "Missing.cshtml"), """
            @page
            <koala-img src="~/img/missing.png" alt="Not converted" />
            """);
        return project;
    }

    /// <summary>A property's evaluated value (`dotnet msbuild -getProperty`), without building.</summary>
    private string GetProperty(string projectFile, string name)
    {
        DotNetResult result = DotNet.Run(Path.GetDirectoryName(projectFile)!, package.Environment, "msbuild", projectFile, "-getProperty:" + name, "-nologo");
        Assert.True(result.Succeeded, result.ToString());
        return result.Output.Trim();
    }

    /// <summary>
    /// The &lt;source&gt; types the rendering rules give a manifest entry whose formats all have the same widths: its
    /// formats but <paramref name="fallback"/>, lightest first, without one heavier than the fallback at every width.
    /// </summary>
    private static string[] SourceTypesLightestFirst(JsonElement image, string fallback)
    {
        Dictionary<string, Dictionary<int, long>> bytes = image.GetProperty("variants").EnumerateArray()
            .GroupBy(v => v.GetProperty("format").GetString()!)
            .ToDictionary(g => g.Key, g => g.ToDictionary(v => v.GetProperty("width").GetInt32(), v => v.GetProperty("bytes").GetInt64()));
        return bytes
            .Where(f => f.Key != fallback && !HeavierAtEveryWidth(f.Value, bytes[fallback]))
            .OrderBy(f => f.Value.Values.Sum())
            .Select(f => "image/" + f.Key)
            .ToArray();
    }

    /// <summary>Every width of <paramref name="bytes"/> is also in <paramref name="fallback"/>, with fewer bytes there.</summary>
    private static bool HeavierAtEveryWidth(Dictionary<int, long> bytes, Dictionary<int, long> fallback) =>
        bytes.All(b => fallback.TryGetValue(b.Key, out long f) && b.Value > f);

    /// <summary>
    /// The manifest entry's ThumbHash (base64) describes its source: decoded with the engine's decoder, it has the
    /// output's aspect ratio and the source's average colour; its data URI is a PNG of exactly that decoded image.
    /// </summary>
    private static (string Hash, string DataUri) AssertThumbHashDescribes(JsonElement image, string sourcePath)
    {
        JsonElement placeholder = image.GetProperty("placeholder");
        string hashText = placeholder.GetProperty("thumbhash").GetString()!;
        string dataUri = placeholder.GetProperty("thumbhash_data_uri").GetString()!;
        byte[] hash = Convert.FromBase64String(hashText);
        JsonElement variant = image.GetProperty("variants").EnumerateArray().First();
        double aspect = variant.GetProperty("width").GetDouble() / variant.GetProperty("height").GetDouble();

        // The hash stores the aspect ratio coarsely (its term counts): within 10 % for a 2.4:1 picture.
        var (width, height, rgba) = KoalaPic.Build.Engine.ThumbHash.Decode(hash);
        Assert.InRange(KoalaPic.Build.Engine.ThumbHash.ApproximateAspectRatio(hash) / aspect, 0.9, 1.1);
        Assert.InRange((double)width / height / aspect, 0.9, 1.1);
        Assert.Equal(KoalaPic.Build.Engine.ThumbHash.DecodedSide, Math.Max(width, height));

        // Its average colour is the source's (sRGB): each channel within 12 of 255.
        KoalaPic.Build.Engine.VipsRuntime.EnsureInitialized();
        using Image source = Image.Thumbnail(sourcePath, 100, height: 100);
        using Image srgb = source.Colourspace(Enums.Interpretation.Srgb);
        for (int band = 0; band < 3; band++)
        {
            double decodedMean = Enumerable.Range(0, width * height).Average(i => rgba[(i * 4) + band]);
            using Image channel = srgb.ExtractBand(band);
            double sourceMean = channel.Avg();
            Assert.True(Math.Abs(decodedMean - sourceMean) <= 12, $"band {band}: the hash's average {decodedMean:F1}, the source's {sourceMean:F1}");
        }

        // The data URI is a PNG of the decoded hash, pixel for pixel (RGB: the nebula is opaque).
        Assert.StartsWith("data:image/png;base64,", dataUri, StringComparison.Ordinal);
        byte[] png = Convert.FromBase64String(dataUri["data:image/png;base64,".Length..]);
        Assert.Equal("VipsForeignLoadPngBuffer", Image.FindLoadBuffer(png));
        using Image decodedPng = Image.NewFromBuffer(png, access: Enums.Access.Random, failOn: Enums.FailOn.Error);
        Assert.Equal((width, height, 3), (decodedPng.Width, decodedPng.Height, decodedPng.Bands));
        byte[] pngPixels = decodedPng.WriteToMemory<byte>();
        Assert.Equal(Enumerable.Range(0, width * height * 3).Select(i => rgba[((i / 3) * 4) + (i % 3)]), pngPixels);
        return (hashText, dataUri);
    }

    private static JsonElement[] ReadManifest(string path)
    {
        Assert.True(File.Exists(path), $"no manifest at {path}");
        using JsonDocument manifest = JsonDocument.Parse(File.ReadAllBytes(path));
        return manifest.RootElement.GetProperty("images").EnumerateArray().Select(i => i.Clone()).ToArray();
    }

    /// <summary>Every variant of the manifest answers 200 with its format's Content-Type and the bytes of the file the build wrote.</summary>
    private static async Task AssertEveryVariantIsServed(WebAppHost app, JsonElement[] images, Func<string, string> fileOf)
    {
        int count = 0;
        foreach (JsonElement variant in images.SelectMany(i => i.GetProperty("variants").EnumerateArray()))
        {
            string url = variant.GetProperty("url").GetString()!;
            using HttpResponseMessage response = await app.Client.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode}\n{app.Output}");
            string expectedType = variant.GetProperty("format").GetString() switch
            {
                "avif" => "image/avif",
                "webp" => "image/webp",
                "jpg" => "image/jpeg",
                "png" => "image/png",
                var other => throw new InvalidOperationException("unexpected format " + other),
            };
            Assert.Equal(expectedType, response.Content.Headers.ContentType?.MediaType);
            byte[] body = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(variant.GetProperty("bytes").GetInt64(), body.LongLength);
            Assert.Equal(File.ReadAllBytes(fileOf(url)), body);
            count++;
        }

        Assert.True(count > 0, "the manifest lists no variant");
    }

    internal static async Task<string> GetPage(WebAppHost app, string path)
    {
        using HttpResponseMessage response = await app.Client.GetAsync(path);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode}\n{body}\n{app.Output}");
        return body;
    }

    /// <summary>The &lt;source&gt; and &lt;img&gt; tags of the &lt;picture&gt; whose img has the given alt, attributes decoded.</summary>
    private static (List<Dictionary<string, string>> Sources, Dictionary<string, string> Img) Picture(string html, string alt)
    {
        foreach (Match picture in Regex.Matches(html, "<picture\\b[^>]*>(.*?)</picture>", RegexOptions.Singleline | RegexOptions.IgnoreCase))
        {
            var tags = Regex.Matches(picture.Groups[1].Value, "<(source|img)\\b([^>]*)>", RegexOptions.IgnoreCase)
                .Select(t => (Name: t.Groups[1].Value.ToLowerInvariant(), Attributes: Attributes(t.Groups[2].Value)))
                .ToList();
            var img = tags.SingleOrDefault(t => t.Name == "img").Attributes;
            if (img != null && img.TryGetValue("alt", out string? a) && a == alt)
            {
                Assert.Equal("img", tags[^1].Name);
                return (tags.Where(t => t.Name == "source").Select(t => t.Attributes).ToList(), img);
            }
        }

        throw new Xunit.Sdk.XunitException($"no <picture> with an <img alt=\"{alt}\"> in:\n{html}");
    }

    private static Dictionary<string, string> Attributes(string text) =>
        Regex.Matches(text, "([A-Za-z_:][-A-Za-z0-9_:.]*)\\s*=\\s*\"([^\"]*)\"")
            .ToDictionary(m => m.Groups[1].Value.ToLowerInvariant(), m => WebUtility.HtmlDecode(m.Groups[2].Value));

    private static string Normalize(string srcset) => Regex.Replace(srcset.Trim(), "\\s*,\\s*", ", ");

    internal static void AssertPixel(Image image, int x, int y, (int R, int G, int B) expected, string what)
    {
        double[] pixel = image.Getpoint(x, y);
        var actual = ((int)pixel[0], (int)pixel[1], (int)pixel[2]);
        const int Tolerance = 14;
        Assert.True(
            Math.Abs(actual.Item1 - expected.R) <= Tolerance && Math.Abs(actual.Item2 - expected.G) <= Tolerance && Math.Abs(actual.Item3 - expected.B) <= Tolerance,
            $"{what} at ({x},{y}): expected about {expected}, got {actual}");
    }
}
