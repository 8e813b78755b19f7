using System.Net;
using System.Text.RegularExpressions;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>
/// The README's "Use it in your project", followed as a new user follows it: the commands and lines are read from
/// README.md itself (the blocks after a <c>&lt;!-- readme-install: name --&gt;</c> marker), so the README and this test
/// cannot drift apart. Pack both packages into ~/koalapic-packages (HOME is a folder of the test's own, so the README's
/// "~" is used as written), a fresh `dotnet new webapp`, the README's nuget.config commands, its PackageReference and
/// KoalaImage lines, its two page lines; then build, run, and fetch the page and every variant it shows.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class ReadmeInstallTests
{
    private static readonly string ReadmePath = Path.Combine(Paths.RepositoryRoot, "README.md");

    private readonly PackageFixture package;

    public ReadmeInstallTests(PackageFixture package) => this.package = package;

    [Fact]
    public void ReadmeAndDocs_NameTheVersionThatIsPacked()
    {
        // Version.props is the one place the version is set; the README's and the docs' examples must follow it.
        foreach (string file in new[] { ReadmePath }.Concat(Directory.GetFiles(Path.Combine(Paths.RepositoryRoot, "docs"), "*.md")))
        {
            foreach (Match reference in Regex.Matches(File.ReadAllText(file), "<PackageReference Include=\"(KoalaPic\\.(?:Build|AspNetCore))\" Version=\"([^\"]+)\""))
            {
                Assert.True(
                    reference.Groups[2].Value == package.Version,
                    $"{Path.GetFileName(file)} references {reference.Groups[1].Value} {reference.Groups[2].Value}, but Version.props packs {package.Version}: update {Path.GetFileName(file)}");
            }
        }

        Assert.Contains($"KoalaPic.Build.{package.Version}.nupkg", File.ReadAllText(ReadmePath));
    }

    [Fact]
    public async Task NewWebApp_FollowingTheReadme_ServesAPageWithTheConvertedImages()
    {
        string readme = File.ReadAllText(ReadmePath);
        string root = Directory.CreateTempSubdirectory("koalapic-readme-").FullName;
        try
        {
            string home = Directory.CreateDirectory(Path.Combine(root, "home")).FullName;

            // 1. Pack both packages, from the repository root. Their dependencies restore from the machine's NuGet folder.
            DotNetResult pack = DotNet.Shell(Paths.RepositoryRoot, new Dictionary<string, string>
            {
                ["HOME"] = home,
                ["NUGET_PACKAGES"] = PackageFixture.MachinePackagesFolder,
            }, ReadmeBlock(readme, "pack"));
            Assert.True(pack.Succeeded, pack.ToString());
            string feed = Path.Combine(home, "koalapic-packages");
            Assert.True(File.Exists(Path.Combine(feed, $"KoalaPic.Build.{package.Version}.nupkg")), $"no KoalaPic.Build.{package.Version}.nupkg in {feed}:\n{pack.Output}");
            Assert.True(File.Exists(Path.Combine(feed, $"KoalaPic.AspNetCore.{package.Version}.nupkg")), $"no KoalaPic.AspNetCore.{package.Version}.nupkg in {feed}:\n{pack.Output}");

            // A new web app, and a NuGet folder of its own: what it restores comes from the README's sources only.
            string app = Path.Combine(root, "MyApp");
            var appEnvironment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(root, "nuget-packages") };
            DotNetResult created = DotNet.Run(root, appEnvironment, "new", "webapp", "-n", "MyApp", "-o", app, "--no-restore");
            Assert.True(created.Succeeded, created.ToString());
            string projectFile = Path.Combine(app, "MyApp.csproj");

            // 2. nuget.config, from the project's folder.
            DotNetResult config = DotNet.Shell(app, new Dictionary<string, string> { ["HOME"] = home }, ReadmeBlock(readme, "nuget-config"));
            Assert.True(config.Succeeded, config.ToString());
            Assert.Contains($"value=\"{feed}\"", File.ReadAllText(Path.Combine(app, "nuget.config")));

            // 3. The project file's lines, the image where the page names it, the two page lines.
            XDocumentEdit.AppendToProject(projectFile, ReadmeBlock(readme, "web-project"));
            Dictionary<string, string> pages = PageLines(ReadmeBlock(readme, "web-pages"));
            Match koalaImg = Regex.Match(string.Join("\n", pages.Values), "<koala-img src=\"~/([^\"]+)\" alt=\"([^\"]+)\"");
            Assert.True(koalaImg.Success, "the README's page lines have no <koala-img src=\"~/…\" alt=\"…\">");
            string image = Path.Combine(app, "wwwroot", koalaImg.Groups[1].Value);
            Directory.CreateDirectory(Path.GetDirectoryName(image)!);
            File.Copy(Paths.Fixture("2569067123_aca715a2ee_o.jpg"), image); // a 2725×2225 photo
            foreach (var (page, lines) in pages)
            {
                File.AppendAllText(Path.Combine(app, page), "\n" + lines + "\n");
            }

            DotNetResult build = DotNet.Run(app, appEnvironment, "build", "-nodeReuse:false");
            Assert.True(build.Succeeded, build.ToString());
            Assert.Matches(@"^KoalaPic: \d+ images, \d+ converted, 0 up to date, ", build.Summary);

            using WebAppHost host = WebAppHost.Run(app, projectFile, appEnvironment);
            using HttpResponseMessage response = await host.Client.GetAsync("/");
            string html = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /: {(int)response.StatusCode}\n{html}\n{host.Output}");

            // The page shows a <picture>: AVIF and WebP sources and a JPEG <img>, every URL a variant the build wrote.
            Match picture = Regex.Match(html, "<picture>(.*?)</picture>", RegexOptions.Singleline);
            Assert.True(picture.Success, $"no <picture> on the page:\n{html}");
            var sources = Regex.Matches(picture.Groups[1].Value, "<source type=\"([^\"]+)\" srcset=\"([^\"]+)\"").Select(m => (Type: m.Groups[1].Value, Srcset: m.Groups[2].Value)).ToList();
            Match img = Regex.Match(picture.Groups[1].Value, "<img src=\"([^\"]+)\" srcset=\"([^\"]+)\"[^>]* alt=\"" + Regex.Escape(koalaImg.Groups[2].Value) + "\"");
            Assert.True(img.Success, $"no <img src srcset alt> in the <picture>:\n{picture.Value}");
            Assert.NotEmpty(sources);
            Assert.All(sources, s => Assert.Contains(s.Type, new[] { "image/avif", "image/webp" }));
            Assert.Contains("image/avif", sources.Select(s => s.Type));
            string original = "/" + koalaImg.Groups[1].Value;
            Assert.NotEqual(original, img.Groups[1].Value);

            var variants = sources.Select(s => s.Srcset).Append(img.Groups[2].Value)
                .SelectMany(srcset => srcset.Split(',', StringSplitOptions.TrimEntries))
                .Select(candidate => Regex.Match(candidate, @"^(\S+) (\d+)w$"))
                .ToList();
            Assert.All(variants, v => Assert.True(v.Success, "a srcset candidate without a width descriptor"));
            Assert.Contains(img.Groups[1].Value, variants.Select(v => v.Groups[1].Value));
            foreach (Match variant in variants)
            {
                string url = variant.Groups[1].Value;
                using HttpResponseMessage served = await host.Client.GetAsync(url);
                Assert.True(served.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)served.StatusCode}\n{host.Output}");
                (string type, string loader) = Path.GetExtension(url) switch
                {
                    ".avif" => ("image/avif", "VipsForeignLoadHeifBuffer"),
                    ".webp" => ("image/webp", "VipsForeignLoadWebpBuffer"),
                    ".jpg" => ("image/jpeg", "VipsForeignLoadJpegBuffer"),
                    var other => throw new Xunit.Sdk.XunitException($"unexpected variant {url} ({other})"),
                };
                Assert.Equal(type, served.Content.Headers.ContentType?.MediaType);
                ImageFile decoded = ImageFile.FromBytes(await served.Content.ReadAsByteArrayAsync());
                Assert.Equal((loader, int.Parse(variant.Groups[2].Value)), (decoded.Loader, decoded.Width));
            }
        }
        finally
        {
            if (!TestProject.KeepForInspection)
            {
                try { Directory.Delete(root, recursive: true); } catch (IOException) { }
            }
        }
    }

    /// <summary>The fenced block right after <c>&lt;!-- readme-install: name --&gt;</c>.</summary>
    private static string ReadmeBlock(string readme, string name)
    {
        Match block = Regex.Match(readme, "<!-- readme-install: " + Regex.Escape(name) + " -->\\s*```[a-z]*\\n(.*?)```", RegexOptions.Singleline);
        Assert.True(block.Success, $"README.md has no block marked <!-- readme-install: {name} -->");
        return block.Groups[1].Value;
    }

    /// <summary>Lines per page file, from comments such as <c>@* Pages/_ViewImports.cshtml: add this line *@</c>.</summary>
    private static Dictionary<string, string> PageLines(string block)
    {
        var pages = new Dictionary<string, string>();
        string? page = null;
        foreach (string line in block.Split('\n'))
        {
            Match header = Regex.Match(line, @"^@\*\s*(Pages/[\w./]+\.cshtml)\b.*\*@\s*$");
            if (header.Success)
            {
                page = header.Groups[1].Value;
                pages[page] = "";
            }
            else if (line.Trim().Length > 0)
            {
                Assert.True(page != null, $"README page line before any @* Pages/… *@ comment: {line}");
                pages[page!] = (pages[page!] + "\n" + line).Trim('\n');
            }
        }

        Assert.NotEmpty(pages);
        return pages;
    }
}
