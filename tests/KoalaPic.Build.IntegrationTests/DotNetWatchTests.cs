using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using KoalaPic.Build.Tests;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>
/// `dotnet watch` sees images: a new `dotnet new webapp` with a KoalaImage under wwwroot/img runs under
/// `dotnet watch --no-hot-reload run` on a loopback port; the source image is replaced by another corpus image of the
/// same name, and the app, restarted by dotnet watch after a build that converted it, serves the new variant.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class DotNetWatchTests
{
    /// <summary>
    /// A hang guard, not a speed assertion: how long the test waits for dotnet watch to start the app and, after the
    /// change, to serve the new variant, on a loaded 2-core machine, before it fails with dotnet watch's output.
    /// </summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(3);

    private readonly PackageFixture package;

    public DotNetWatchTests(PackageFixture package) => this.package = package;

    [Fact]
    public async Task DotnetWatch_ReplacedSourceImage_RebuildsAndServesTheNewVariantAndMarkup()
    {
        using TestProject project = TestProject.FromTemplate(package, "webapp", "WatchSite");
        string source = project.AddImage("flowers.jpeg", "wwwroot/img/photo.jpg");
        XDocumentEdit.AppendToProject(project.ProjectFile, $"""
            <ItemGroup>
              <PackageReference Include="KoalaPic.Build" Version="{package.Version}" PrivateAssets="all" />
              <PackageReference Include="KoalaPic.AspNetCore" Version="{package.Version}" />
              <KoalaImage Include="wwwroot/img/photo.jpg" Format="webp" Widths="160;320" />
            </ItemGroup>
            """);
        string pages = Path.Combine(project.Directory, "Pages");
        File.AppendAllText(Path.Combine(pages, "_ViewImports.cshtml"), "\n@addTagHelper *, KoalaPic.AspNetCore\n");
        File.AppendAllText(Path.Combine(pages, "Index.cshtml"), "\n<koala-img src=\"~/img/photo.jpg\" alt=\"The watched photo\" />\n");

        // The first build (restore, the natives from the feed) outside dotnet watch, so that a failure there reads as one.
        DotNetResult build = project.Build();
        Assert.True(build.Succeeded, build.ToString());
        Assert.StartsWith("KoalaPic: 2 images, 2 converted, ", build.Summary); // one source, two widths
        const string variant = "/img/photo-320w.webp";
        Assert.True(File.Exists(Path.Combine(project.ObjOutputDirectory, "wwwroot", "img", "photo-320w.webp")), build.ToString());

        using WebAppHost watch = WebAppHost.Watch(project, package.Environment, HangGuard);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        byte[] before = await http.GetByteArrayAsync(new Uri(watch.LatestAddress, variant));
        ImageFile first = ImageFile.FromBytes(before);
        Assert.Equal(("VipsForeignLoadWebpBuffer", 320), (first.Loader, first.Width));
        Assert.Equal(first.Height.ToString(), ImgAttribute(await http.GetStringAsync(watch.LatestAddress), "height"));
        int outputBeforeChange = watch.Output.Length;

        // Replaced in place, same name, as an image editor saves it (the corpus file may be read-only: so may the copy).
        File.SetAttributes(source, FileAttributes.Normal);
        File.WriteAllBytes(source, File.ReadAllBytes(Paths.Fixture("Landscape_1.jpg")));
        TestLog.Write($"{nameof(DotNetWatchTests)}: replaced wwwroot/img/photo.jpg; waiting for dotnet watch to serve a new {variant}");

        byte[] after = await WaitFor(watch, $"a new {variant}", async () =>
        {
            try
            {
                using HttpResponseMessage response = await http.GetAsync(new Uri(watch.LatestAddress, variant));
                byte[] bytes = await response.Content.ReadAsByteArrayAsync();
                return response.StatusCode == HttpStatusCode.OK && !bytes.AsSpan().SequenceEqual(before) ? bytes : null;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return null; // the app is restarting (refused), or busy starting (timed out)
            }
        });

        // The new variant is the new source's: a webp 320 wide with its aspect ratio, not the flowers'.
        ImageFile second = ImageFile.FromBytes(after);
        var (sourceWidth, sourceHeight) = ImageFile.UprightSize(source);
        Assert.Equal(("VipsForeignLoadWebpBuffer", 320), (second.Loader, second.Width));
        Assert.NotEqual(first.Height, second.Height);
        Assert.InRange(second.Height, 320 * sourceHeight / sourceWidth - 1, 320 * sourceHeight / sourceWidth + 1);

        // The rebuild was KoalaPic's: its summary line, converting both variants of the one source, is in dotnet watch's output after the change.
        string summary = await WaitFor(watch, "KoalaPic's summary line", () => Task.FromResult(
            Regex.Match(watch.Output[outputBeforeChange..], @"KoalaPic: 2 images, 2 converted, [^\r\n]*") is { Success: true } m ? m.Value : null));
        TestLog.Write($"{nameof(DotNetWatchTests)}: {summary}");

        // A page reload shows the new variant: <koala-img> renders the new size from the rebuilt manifest.
        Assert.Equal(second.Height.ToString(), ImgAttribute(await http.GetStringAsync(watch.LatestAddress), "height"));
    }

    /// <summary>
    /// What dotnet watch (hot reload off) reads about each file: the SDK's own DotNetWatch.targets, run as dotnet watch
    /// runs it (target GenerateWatchList). Every source that is a file is watched, as a plain file, however its item
    /// spells the path and wherever it is; a static file that is no source stays one; a Url item is no file.
    /// </summary>
    [Fact]
    public void DotnetWatchFileSet_HasEverySourceAsAPlainFile_AndOtherStaticFilesUnchanged()
    {
        using TestProject project = TestProject.FromTemplate(package, "webapp", "WatchList");
        project.AddImage("flowers.jpeg", "wwwroot/img/photo.jpg");
        project.AddImage("Landscape_1.jpg", "Images/hero.jpg");
        XDocumentEdit.AppendToProject(project.ProjectFile, $"""
            <ItemGroup>
              <PackageReference Include="KoalaPic.Build" Version="{package.Version}" PrivateAssets="all" />
              <KoalaImage Include="./wwwroot\img/photo.jpg" Format="webp" />
              <KoalaImage Include="Images/hero.jpg" Link="wwwroot/img/hero.jpg" Format="webp" />
              <KoalaImage Include="wwwroot/img/remote.jpg" Url="http://127.0.0.1:9/remote.jpg" Format="webp" />
            </ItemGroup>
            """);
        DotNetResult restore = project.Run("restore");
        Assert.True(restore.Succeeded, restore.ToString());

        string watchTargets = DotNetWatchTargets(project);
        string list = Path.Combine(project.Directory, "watch-list.json");
        DotNetResult collect = project.Run(
            "msbuild", "-t:GenerateWatchList", $"-p:_DotNetWatchListFile={list}", "-p:DotNetWatchBuild=true", "-p:DesignTimeBuild=true",
            $"-p:CustomAfterMicrosoftCommonTargets={watchTargets}", $"-p:CustomAfterMicrosoftCommonCrossTargetingTargets={watchTargets}");
        Assert.True(collect.Succeeded, collect.ToString());

        using System.Text.Json.JsonDocument document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(list));
        System.Text.Json.JsonElement files = document.RootElement.GetProperty("Projects").EnumerateObject().Single().Value;
        string[] plain = files.GetProperty("Files").EnumerateArray().Select(f => f.GetString()!).ToArray();
        string[] staticFiles = files.GetProperty("StaticFiles").EnumerateArray().Select(f => f.GetProperty("FilePath").GetString()!).ToArray();
        string In(string relative) => Path.Combine(project.Directory, relative);
        Assert.Contains(In("wwwroot/img/photo.jpg"), plain);
        Assert.Contains(In("Images/hero.jpg"), plain);
        Assert.DoesNotContain(In("wwwroot/img/photo.jpg"), staticFiles);
        Assert.DoesNotContain(In("wwwroot/img/remote.jpg"), plain);
        Assert.Contains(In("wwwroot/css/site.css"), staticFiles);
    }

    /// <summary>The SDK's DotNetWatch.targets, of the SDK that builds <paramref name="project"/> (`dotnet --version` there).</summary>
    private string DotNetWatchTargets(TestProject project)
    {
        string version = DotNet.Run(project.Directory, package.Environment, "--version").Output.Trim();
        Match sdk = Regex.Match(DotNet.Run(project.Directory, package.Environment, "--list-sdks").Output, "^" + Regex.Escape(version) + @" \[(.+)\]\s*$", RegexOptions.Multiline);
        Assert.True(sdk.Success, $"SDK {version} is not in dotnet --list-sdks");
        return Directory.GetFiles(Path.Combine(sdk.Groups[1].Value, version, "DotnetTools", "dotnet-watch"), "DotNetWatch.targets", SearchOption.AllDirectories).Single();
    }

    /// <summary>Polls until <paramref name="probe"/> gives a value; fails with dotnet watch's output when the hang guard runs out or it exits.</summary>
    private static async Task<T> WaitFor<T>(WebAppHost watch, string what, Func<Task<T?>> probe)
        where T : class
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is T value)
            {
                TestLog.Write($"{nameof(DotNetWatchTests)}: {what} after {clock.Elapsed.TotalSeconds:0.0} s");
                return value;
            }

            if (watch.HasExited || clock.Elapsed > HangGuard)
            {
                Assert.Fail($"dotnet watch {(watch.HasExited ? "exited" : $"ran {HangGuard}")} without {what}:\n{watch.Output}");
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>An attribute of the page's one &lt;img&gt;.</summary>
    private static string ImgAttribute(string html, string name)
    {
        MatchCollection images = Regex.Matches(html, "<img\\s[^>]*>");
        Assert.True(images.Count == 1, html);
        Match attribute = Regex.Match(images[0].Value, "\\s" + name + "=\"([^\"]*)\"");
        Assert.True(attribute.Success, images[0].Value);
        return attribute.Groups[1].Value;
    }
}
