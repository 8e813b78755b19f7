namespace KoalaPic.Build.IntegrationTests;

/// <summary>Projects other than the plain console app: bad metadata, an ASP.NET Core app.</summary>
[Collection(PackageCollection.Name)]
public sealed class OtherProjectTests
{
    private readonly PackageFixture package;

    public OtherProjectTests(PackageFixture package) => this.package = package;

    [Fact]
    public void BadMetadata_ReportsKP1xxx_NamingItemMetadataAndValue_AndGoodImagesConvert()
    {
        using TestProject project = TestProject.Create(package, "BadMetadata");
        foreach (string name in new[] { "good", "bad-quality", "bad-format", "bad-width" })
        {
            project.AddImage("concert.jpg", $"img/{name}.jpg");
        }

        DotNetResult result = project.Build();

        Assert.False(result.Succeeded);
        Assert.Contains("error KP1002: KoalaImage 'img/bad-quality.jpg': Quality=\"abc\" is not valid. Accepted values: a whole number from 1 to 100", result.Output);
        Assert.Contains("error KP1001: KoalaImage 'img/bad-format.jpg': Format=\"xyz\" is not valid. Accepted values: jpg (default)", result.Output);
        Assert.Contains("error KP1003: KoalaImage 'img/bad-width.jpg': Width=\"-5\" is not valid.", result.Output);
        Assert.Contains($"BadMetadata.csproj{project.KoalaImageAt("bad-quality")}: error KP1002", result.Output);
        Assert.DoesNotContain("MSB4018", result.Output);
        Assert.Equal("KoalaPic: 1 images, 1 converted, 0 up to date, ", result.Summary.Substring(0, "KoalaPic: 1 images, 1 converted, 0 up to date, ".Length));
        ImageFile good = ImageFile.Read(Path.Combine(project.ObjOutputDirectory, "img", "good.webp"));
        Assert.Equal(("VipsForeignLoadWebpBuffer", 300), (good.Loader, good.Width));
    }

    [Fact]
    public void WebApp_PublishesConvertedImagesUnderWwwroot()
    {
        using TestProject project = TestProject.Create(package, "WebApp");
        project.AddImage("gradients-rgb8.png", "wwwroot/img/gradients.png");
        project.AddImage("with-alpha.png", "wwwroot/img/with alpha.png");
        string published = Path.Combine(project.Directory, "published");

        DotNetResult result = project.Publish("-o", published);

        Assert.True(result.Succeeded, result.ToString());
        ImageFile gradients = ImageFile.Read(Path.Combine(published, "wwwroot", "img", "gradients.avif"));
        Assert.Equal(("VipsForeignLoadHeifBuffer", 400), (gradients.Loader, gradients.Width));
        ImageFile alpha = ImageFile.Read(Path.Combine(published, "wwwroot", "img", "with alpha.avif"));
        Assert.Equal(4, alpha.Bands);
        Assert.DoesNotContain(Directory.GetFiles(published, "*", SearchOption.AllDirectories), f => Path.GetFileName(f).Contains("vips", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void WebApp_WithThePackageButNoKoalaImageItem_Builds_EvenServingTheManifest()
    {
        // The state right after `dotnet add package KoalaPic.Build`, before the first item is written; with the manifest
        // served, as it is by default in a Razor class library.
        using TestProject project = TestProject.Create(package, "WebApp");
        project.SetKoalaImages("");
        project.SetProperty("KoalaPicServeManifest", "true");

        DotNetResult result = project.Build();

        Assert.True(result.Succeeded, result.ToString());
        Assert.Empty(result.KoalaPicLines);
    }

    [Fact]
    public void MultiTarget_ConvertsForEachFramework_AndTheSecondBuildConvertsNothing()
    {
        // net9.0's reference pack comes from the machine's usual NuGet source; KoalaPic.Build must still come from the test feed.
        using TestProject project = TestProject.Create(package, "MultiTarget", inheritPackageSources: true);
        project.AddImage("concert.jpg", "img/concert.jpg");
        project.AddImage("flowers.jpeg", "img/flowers.jpg");

        DotNetResult first = project.Build();

        Assert.True(first.Succeeded, first.ToString());
        Assert.Contains(package.FeedDirectory, File.ReadAllText(Path.Combine(package.PackagesDirectory, "koalapic.build", PackageFixture.Version, ".nupkg.metadata")));
        var summaries = first.KoalaPicLines.Where(l => l.Contains(" images, ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, summaries.Count);
        Assert.All(summaries, s => Assert.StartsWith("KoalaPic: 2 images, ", s));
        string[] outputs = new[] { "net10.0", "net9.0" }
            .Select(tfm => Path.Combine(project.Directory, "bin", "Debug", tfm, "img", "concert.webp")).ToArray();
        Assert.All(outputs, o => Assert.Equal(("VipsForeignLoadWebpBuffer", 320), (ImageFile.Read(o).Loader, ImageFile.Read(o).Width)));
        Assert.Equal(File.ReadAllBytes(outputs[0]), File.ReadAllBytes(outputs[1]));

        DotNetResult second = project.Build();

        Assert.True(second.Succeeded, second.ToString());
        Assert.All(
            second.KoalaPicLines.Where(l => l.Contains(" images, ", StringComparison.Ordinal)),
            s => Assert.StartsWith("KoalaPic: 2 images, 0 converted, 2 up to date, ", s));
    }

    /// <summary>Ctrl+C during conversion: MSBuild cancels the task, which stops between images and leaves only whole files.
    /// POSIX only (SIGINT through kill(1)); CI runs on Linux.</summary>
    [Fact]
    public void CtrlC_DuringConversion_StopsWithKP0002_LeavesNoPartialFile_AndTheNextBuildFinishes()
    {
        using TestProject project = TestProject.Create(package, "ConsoleApp");
        project.AddImage("2569067123_aca715a2ee_o.jpg", "img/photo.jpg");
        // Forty distinct outputs of one large photo (each width is its own cache key), one at a time, so the build is
        // still converting when the first progress line arrives.
        project.SetKoalaImages(string.Concat(Enumerable.Range(0, 40).Select(i =>
            $"""<KoalaImage Include="img/photo.jpg" Link="out/photo-{i}.png" Format="png" Quality="100" Width="{2000 + i}" />""")));
        project.SetProperty("KoalaPicMaxParallelism", "1");
        int signalled = 0;

        DotNetResult cancelled = project.Build(
            (line, process) =>
            {
                if (line.Contains("KoalaPic: [1/40]", StringComparison.Ordinal) && Interlocked.Exchange(ref signalled, 1) == 0)
                {
                    System.Diagnostics.Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
                }
            },
            "-v:n");

        Assert.Equal(1, signalled);
        Assert.False(cancelled.Succeeded);
        Assert.Contains("KP0002", cancelled.Output);
        Assert.DoesNotContain("MSB4018", cancelled.Output);
        string obj = Path.Combine(project.Directory, "obj");
        Assert.Empty(Directory.GetFiles(obj, "*.tmp", SearchOption.AllDirectories));
        int finished = Directory.Exists(project.ObjOutputDirectory) ? Directory.GetFiles(project.ObjOutputDirectory, "*.png", SearchOption.AllDirectories).Length : 0;
        Assert.InRange(finished, 1, 39);

        DotNetResult next = project.Build();

        Assert.True(next.Succeeded, next.ToString());
        Assert.StartsWith($"KoalaPic: 40 images, {40 - finished} converted, {finished} up to date, ", next.Summary);
    }
}
