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
        Assert.Contains("BadMetadata.csproj : error KP1002", result.Output);
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
}
