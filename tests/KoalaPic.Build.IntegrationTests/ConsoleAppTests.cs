namespace KoalaPic.Build.IntegrationTests;

/// <summary>
/// The scenarios of a user's console app: first build, no-op rebuild, touch, edit, metadata change, deleted output,
/// removed item, clean, publish, KoalaPicEnabled and KoalaPicCacheDir — each with the real dotnet CLI.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class ConsoleAppTests : IDisposable
{
    // Real photos and graphics, named as users name them (spaces included); `as` is the name in the project.
    private static readonly (string Corpus, string As)[] Images =
    {
        ("2569067123_aca715a2ee_o.jpg", "img/big photo.jpg"),
        ("concert.jpg", "img/concert.jpg"),
        ("gradients-rgb8.png", "img/gradients rgb8.png"),
        ("with-alpha.png", "img/with-alpha.png"),
        ("4.webp", "img/lossy 4.webp"),
    };

    private readonly TestProject project;

    public ConsoleAppTests(PackageFixture package)
    {
        project = TestProject.Create(package, "ConsoleApp");
        foreach (var (corpus, name) in Images)
        {
            project.AddImage(corpus, name);
        }
    }

    public void Dispose() => project.Dispose();

    private string BinImage(string name) => Path.Combine(project.BinDirectory, Path.ChangeExtension(name, ".webp"));

    private string ObjImage(string name) => Path.Combine(project.ObjOutputDirectory, Path.ChangeExtension(name, ".webp"));

    private DotNetResult BuildOk(params string[] arguments)
    {
        DotNetResult result = project.Build(arguments);
        Assert.True(result.Succeeded, result.ToString());
        return result;
    }

    [Fact]
    public void FirstBuild_ConvertsEveryImage_ToWebpOfTheRightSize()
    {
        DotNetResult result = BuildOk();

        Assert.StartsWith("KoalaPic: 5 images, 5 converted, 0 up to date, ", result.Summary);
        Assert.Matches(@"^KoalaPic: 5 images, 5 converted, 0 up to date, [\d.]+ [KM]?B -> [\d.]+ [KM]?B \([-+]?\d+%\) in [\d.]+ s$", result.Summary);
        foreach (var (corpus, name) in Images)
        {
            var (sourceWidth, sourceHeight) = ImageFile.UprightSize(Paths.Fixture(corpus));
            ImageFile output = ImageFile.Read(BinImage(name));
            Assert.Equal("VipsForeignLoadWebpBuffer", output.Loader);
            int expectedWidth = Math.Min(1200, sourceWidth);
            Assert.Equal(expectedWidth, output.Width);
            Assert.InRange(output.Height, sourceHeight * expectedWidth / sourceWidth - 1, sourceHeight * expectedWidth / sourceWidth + 1);
        }
    }

    [Fact]
    public void FirstBuild_PutsNoEngineFileInBuildOutput()
    {
        BuildOk();

        string[] files = Directory.GetFiles(project.BinDirectory, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(project.BinDirectory, f).Replace('\\', '/')).ToArray();
        Assert.DoesNotContain(files, f => f.Contains("NetVips", StringComparison.OrdinalIgnoreCase)
                                          || f.Contains("libvips", StringComparison.OrdinalIgnoreCase)
                                          || f.Contains("KoalaPic", StringComparison.OrdinalIgnoreCase)
                                          || f.Contains("Magick", StringComparison.OrdinalIgnoreCase)
                                          || f.StartsWith("runtimes/", StringComparison.Ordinal));
        Assert.Contains("img/concert.webp", files);
    }

    [Fact]
    public void NoOpRebuild_ConvertsNothing_AndRewritesNoFile()
    {
        BuildOk();
        var obj = TestProject.Timestamps(project.ObjOutputDirectory);
        var bin = TestProject.Timestamps(Path.Combine(project.BinDirectory, "img"));

        DotNetResult second = BuildOk();

        Assert.StartsWith("KoalaPic: 5 images, 0 converted, 5 up to date, ", second.Summary);
        Assert.Equal(obj, TestProject.Timestamps(project.ObjOutputDirectory));
        Assert.Equal(bin, TestProject.Timestamps(Path.Combine(project.BinDirectory, "img")));
        Assert.Equal(5, bin.Count);
    }

    [Fact]
    public void TouchedSources_ConvertNothing_AndRewriteNoFile()
    {
        BuildOk();
        var bin = TestProject.Timestamps(Path.Combine(project.BinDirectory, "img"));
        foreach (var (_, name) in Images)
        {
            File.SetLastWriteTimeUtc(Path.Combine(project.Directory, name), DateTime.UtcNow.AddMinutes(1));
        }

        DotNetResult second = BuildOk();

        Assert.StartsWith("KoalaPic: 5 images, 0 converted, 5 up to date, ", second.Summary);
        Assert.Equal(bin, TestProject.Timestamps(Path.Combine(project.BinDirectory, "img")));
    }

    [Fact]
    public void SourceEdit_ReencodesThatImageOnly()
    {
        BuildOk();
        var before = TestProject.Timestamps(Path.Combine(project.BinDirectory, "img"));
        project.AddImage("flowers.jpeg", "img/concert.jpg");

        DotNetResult second = BuildOk("-v:n");

        Assert.StartsWith("KoalaPic: 5 images, 1 converted, 4 up to date, ", second.Summary);
        Assert.Contains(second.KoalaPicLines, l => l.Contains("img/concert.jpg -> img/concert.webp", StringComparison.Ordinal));
        var after = TestProject.Timestamps(Path.Combine(project.BinDirectory, "img"));
        string edited = BinImage("img/concert.jpg");
        Assert.All(before.Keys.Where(k => k != edited), k => Assert.Equal(before[k], after[k]));
        var (flowersWidth, flowersHeight) = ImageFile.UprightSize(Paths.Fixture("flowers.jpeg"));
        ImageFile output = ImageFile.Read(edited);
        Assert.Equal((Math.Min(1200, flowersWidth), flowersHeight * Math.Min(1200, flowersWidth) / flowersWidth), (output.Width, output.Height));
    }

    [Fact]
    public void MetadataEdit_ReencodesAffectedImages()
    {
        BuildOk();
        long before = new FileInfo(BinImage("img/big photo.jpg")).Length;
        project.SetKoalaImages("""<KoalaImage Include="img/*.jpg;img/*.png;img/*.webp" Format="webp" Quality="30" Width="1200" />""");

        DotNetResult second = BuildOk();

        Assert.StartsWith("KoalaPic: 5 images, 5 converted, 0 up to date, ", second.Summary);
        Assert.True(new FileInfo(BinImage("img/big photo.jpg")).Length < before, "Quality 30 must give a smaller file than quality 80");
    }

    [Fact]
    public void FormatChange_ProducesTheNewExtension_AndRemovesTheOldOutput()
    {
        BuildOk();
        project.SetKoalaImages("""<KoalaImage Include="img/*.jpg;img/*.png;img/*.webp" Format="avif" Width="300" />""");

        DotNetResult second = BuildOk();

        Assert.StartsWith("KoalaPic: 5 images, 5 converted, 0 up to date, ", second.Summary);
        string avif = Path.Combine(project.BinDirectory, "img", "concert.avif");
        Assert.Equal("VipsForeignLoadHeifBuffer", ImageFile.Read(avif).Loader);
        Assert.False(File.Exists(BinImage("img/concert.jpg")), "the webp of the previous build must be gone from bin/");
        Assert.False(File.Exists(ObjImage("img/concert.jpg")), "the webp of the previous build must be gone from obj/");
    }

    [Fact]
    public void DeletedOutputs_AreRestored_WithoutReencoding()
    {
        BuildOk();
        File.Delete(BinImage("img/concert.jpg"));
        File.Delete(ObjImage("img/with-alpha.png"));

        DotNetResult second = BuildOk();

        Assert.StartsWith("KoalaPic: 5 images, 0 converted, 5 up to date, ", second.Summary);
        Assert.Equal("VipsForeignLoadWebpBuffer", ImageFile.Read(BinImage("img/concert.jpg")).Loader);
        Assert.Equal("VipsForeignLoadWebpBuffer", ImageFile.Read(BinImage("img/with-alpha.png")).Loader);
        Assert.Equal(File.ReadAllBytes(ObjImage("img/with-alpha.png")), File.ReadAllBytes(BinImage("img/with-alpha.png")));
    }

    [Fact]
    public void RemovedItem_DeletesItsOutput()
    {
        BuildOk();
        Assert.True(File.Exists(BinImage("img/gradients rgb8.png")));
        project.SetKoalaImages("""<KoalaImage Include="img/*.jpg;img/*.webp" Format="webp" Quality="80" Width="1200" />""");

        DotNetResult second = BuildOk();

        Assert.StartsWith("KoalaPic: 3 images, 0 converted, 3 up to date, ", second.Summary);
        Assert.False(File.Exists(BinImage("img/gradients rgb8.png")));
        Assert.False(File.Exists(ObjImage("img/gradients rgb8.png")));
        Assert.False(File.Exists(BinImage("img/with-alpha.png")));
        Assert.True(File.Exists(BinImage("img/concert.jpg")));
    }

    [Fact]
    public void Clean_RemovesAllOutputs()
    {
        BuildOk();
        Assert.NotEmpty(Directory.GetFiles(project.ObjOutputDirectory, "*.webp", SearchOption.AllDirectories));

        DotNetResult clean = project.Clean();

        Assert.True(clean.Succeeded, clean.ToString());
        Assert.Empty(Directory.GetFiles(Path.Combine(project.Directory, "bin"), "*.webp", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(Path.Combine(project.Directory, "obj"), "*.webp", SearchOption.AllDirectories));
        Assert.False(Directory.Exists(Path.Combine(project.Directory, "obj", "koalapic", "cache")), "the default cache lives in obj/ and goes with clean");
    }

    [Fact]
    public void Publish_ContainsConvertedImages_AndNoEngineFile()
    {
        DotNetResult publish = project.Publish("-o", Path.Combine(project.Directory, "published"));

        Assert.True(publish.Succeeded, publish.ToString());
        string published = Path.Combine(project.Directory, "published");
        foreach (var (_, name) in Images)
        {
            Assert.Equal("VipsForeignLoadWebpBuffer", ImageFile.Read(Path.Combine(published, Path.ChangeExtension(name, ".webp"))).Loader);
        }

        string[] files = Directory.GetFiles(published, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToArray()!;
        Assert.DoesNotContain(files, f => f!.Contains("vips", StringComparison.OrdinalIgnoreCase) || f.Contains("KoalaPic", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(files, f => f!.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".png", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Link_SetsTheDestination_WithTheFormatsExtension()
    {
        project.SetKoalaImages("""
            <KoalaImage Include="img/concert.jpg" Link="assets/hero.png" Format="avif" Width="200" />
            <KoalaImage Include="img/with-alpha.png" Link="icons/alpha.png" Format="png" />
            """);

        BuildOk();

        ImageFile hero = ImageFile.Read(Path.Combine(project.BinDirectory, "assets", "hero.avif"));
        Assert.Equal(("VipsForeignLoadHeifBuffer", 200), (hero.Loader, hero.Width));
        Assert.Equal("VipsForeignLoadPngBuffer", ImageFile.Read(Path.Combine(project.BinDirectory, "icons", "alpha.png")).Loader);
        Assert.False(Directory.Exists(Path.Combine(project.BinDirectory, "img")));
    }

    [Fact]
    public void Disabled_ConvertsNothing()
    {
        DotNetResult result = BuildOk("-p:KoalaPicEnabled=false");

        Assert.Empty(result.KoalaPicLines);
        Assert.False(Directory.Exists(Path.Combine(project.BinDirectory, "img")));
    }

    [Fact]
    public void CacheDir_SurvivesAFreshCheckout_SoNothingIsReencoded()
    {
        string cache = Path.Combine(project.Directory, "..", Path.GetFileName(project.Directory) + "-cache");
        try
        {
            BuildOk("-p:KoalaPicCacheDir=" + cache);
            Assert.NotEmpty(Directory.GetFiles(cache, "*.webp", SearchOption.AllDirectories));
            Directory.Delete(Path.Combine(project.Directory, "obj"), recursive: true);
            Directory.Delete(Path.Combine(project.Directory, "bin"), recursive: true);

            DotNetResult second = BuildOk("-p:KoalaPicCacheDir=" + cache);

            Assert.StartsWith("KoalaPic: 5 images, 0 converted, 5 up to date, ", second.Summary);
            Assert.Equal("VipsForeignLoadWebpBuffer", ImageFile.Read(BinImage("img/big photo.jpg")).Loader);
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [Fact]
    public void BrokenImagesAmongGood_FailWithKP2008AndKP2002_AndTheOthersStillConvert()
    {
        project.WriteFile("img/not an image.jpg", "this is text, not a JPEG"u8.ToArray());
        byte[] photo = File.ReadAllBytes(Paths.Fixture("concert.jpg"));
        project.WriteFile("img/truncated.jpg", photo.Take(photo.Length / 3).ToArray());

        DotNetResult result = project.Build();

        Assert.False(result.Succeeded);
        Assert.Contains("error KP2008: KoalaImage 'img/not an image.jpg'", result.Output);
        Assert.True(result.Output.Contains("error KP2002: KoalaImage 'img/truncated.jpg'", StringComparison.Ordinal), result.Output);
        Assert.DoesNotContain("MSB4018", result.Output);
        Assert.DoesNotContain("   at ", result.Output);
        Assert.StartsWith("KoalaPic: 7 images, 5 converted, 0 up to date, 2 failed, ", result.Summary);
        Assert.False(File.Exists(ObjImage("img/not an image.jpg")));
        Assert.False(File.Exists(ObjImage("img/truncated.jpg")));
        Assert.Equal("VipsForeignLoadWebpBuffer", ImageFile.Read(ObjImage("img/concert.jpg")).Loader);
    }

    [Fact]
    public void MissingSource_FailsWithKP2001_NamingTheFile()
    {
        project.SetKoalaImages("""
            <KoalaImage Include="img/concert.jpg" Format="webp" />
            <KoalaImage Include="img/missing.png" Format="webp" />
            """);

        DotNetResult result = project.Build();

        Assert.False(result.Succeeded);
        Assert.Contains("error KP2001: KoalaImage 'img/missing.png'", result.Output);
        Assert.Contains("missing.png' does not exist", result.Output);
        Assert.True(File.Exists(ObjImage("img/concert.jpg")));
    }

    /// <summary>The path Visual Studio 2022's MSBuild takes (net472 task → koalapic process), run from the .NET task.</summary>
    [Fact]
    public void OutOfProcess_ConvertsReportsAndSkipsLikeInProcess()
    {
        project.WriteFile("img/not an image.jpg", "text"u8.ToArray());

        DotNetResult first = project.Build("-p:KoalaPicOutOfProcess=true", "-v:n");

        Assert.False(first.Succeeded);
        Assert.Contains("error KP2008: KoalaImage 'img/not an image.jpg'", first.Output);
        Assert.DoesNotContain("MSB4018", first.Output);
        Assert.StartsWith("KoalaPic: 6 images, 5 converted, 0 up to date, 1 failed, ", first.Summary);
        Assert.Equal(5, first.KoalaPicLines.Count(l => l.StartsWith("KoalaPic: [", StringComparison.Ordinal)));
        foreach (var (corpus, name) in Images)
        {
            Assert.Equal("VipsForeignLoadWebpBuffer", ImageFile.Read(ObjImage(name)).Loader);
        }

        File.Delete(Path.Combine(project.Directory, "img", "not an image.jpg"));
        DotNetResult second = BuildOk("-p:KoalaPicOutOfProcess=true");

        Assert.StartsWith("KoalaPic: 5 images, 0 converted, 5 up to date, ", second.Summary);
        Assert.Equal("VipsForeignLoadWebpBuffer", ImageFile.Read(BinImage("img/big photo.jpg")).Loader);
    }

    [Fact]
    public void ItemsCreatedByATargetInKoalaPicConvertImagesDependsOn_AreConverted()
    {
        project.SetKoalaImages("");
        XDocumentEdit.AppendToProject(project.ProjectFile, """
            <PropertyGroup>
              <KoalaPicConvertImagesDependsOn>CollectGeneratedImages</KoalaPicConvertImagesDependsOn>
            </PropertyGroup>
            <Target Name="CollectGeneratedImages">
              <ItemGroup>
                <KoalaImage Include="img/concert.jpg" Format="avif" Width="100" />
              </ItemGroup>
            </Target>
            """);

        DotNetResult result = BuildOk();

        Assert.StartsWith("KoalaPic: 1 images, 1 converted, 0 up to date, ", result.Summary);
        Assert.Equal(("VipsForeignLoadHeifBuffer", 100), (ImageFile.Read(Path.Combine(project.BinDirectory, "img", "concert.avif")).Loader, ImageFile.Read(Path.Combine(project.BinDirectory, "img", "concert.avif")).Width));
    }
}
