using System.Text.Json;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>Several formats and widths per item (Format="avif;webp" Widths="…") and the manifest, with the real dotnet CLI.</summary>
[Collection(PackageCollection.Name)]
public sealed class VariantsBuildTests : IDisposable
{
    private readonly TestProject project;

    public VariantsBuildTests(PackageFixture package)
    {
        project = TestProject.Create(package, "ConsoleApp");
        project.AddImage("2569067123_aca715a2ee_o.jpg", "wwwroot/img/photo.jpg");
    }

    public void Dispose() => project.Dispose();

    [Fact]
    public void FormatsTimesWidths_EveryVariantInBinAtItsWidth_WiderThanSourceSkipped_ManifestListsThem()
    {
        project.SetKoalaImages("""<KoalaImage Include="wwwroot/img/*.jpg" Format="avif;webp" Widths="200;400;20000" />""");

        DotNetResult result = project.Build();

        Assert.True(result.Succeeded, result.ToString());
        var (sourceWidth, sourceHeight) = ImageFile.UprightSize(Paths.Fixture("2569067123_aca715a2ee_o.jpg"));
        Assert.True(sourceWidth > 400 && sourceWidth < 20000, $"the test needs a source between 400 and 20000 pixels wide, not {sourceWidth}");
        var expected = new[]
        {
            ("wwwroot/img/photo-200w.avif", "VipsForeignLoadHeifBuffer", 200, "avif"),
            ("wwwroot/img/photo-400w.avif", "VipsForeignLoadHeifBuffer", 400, "avif"),
            ("wwwroot/img/photo-200w.webp", "VipsForeignLoadWebpBuffer", 200, "webp"),
            ("wwwroot/img/photo-400w.webp", "VipsForeignLoadWebpBuffer", 400, "webp"),
        };
        foreach (var (path, loader, width, _) in expected)
        {
            ImageFile output = ImageFile.Read(Path.Combine(project.BinDirectory, path));
            Assert.Equal(loader, output.Loader);
            Assert.Equal(width, output.Width);
            Assert.InRange(output.Height, sourceHeight * width / sourceWidth - 1, sourceHeight * width / sourceWidth + 1);
        }

        Assert.False(File.Exists(Path.Combine(project.BinDirectory, "wwwroot", "img", "photo-20000w.avif")), "a width larger than the source must not reach bin/");
        // Nor is it converted: the source's width is read from its header first, so only the 4 kept variants are encoded.
        Assert.StartsWith("KoalaPic: 4 images, 4 converted, 0 up to date, ", result.Summary);
        Assert.False(File.Exists(Path.Combine(project.ObjOutputDirectory, "wwwroot", "img", "photo-20000w.avif")), "a width larger than the source must not be converted");
        Assert.False(File.Exists(Path.Combine(project.BinDirectory, "wwwroot", "img", "photo.webp")), "several widths must not give an unsuffixed file");

        string manifestPath = Path.Combine(project.Directory, "obj", "Debug", "net10.0", "koalapic", "koalapic.manifest.json");
        using JsonDocument manifest = JsonDocument.Parse(File.ReadAllBytes(manifestPath));
        Assert.Equal(1, manifest.RootElement.GetProperty("version").GetInt32());
        JsonElement image = Assert.Single(manifest.RootElement.GetProperty("images").EnumerateArray());
        Assert.Equal("wwwroot/img/photo.jpg", image.GetProperty("source").GetString());
        Assert.Equal("/img/photo.jpg", image.GetProperty("path").GetString());
        JsonElement[] variants = image.GetProperty("variants").EnumerateArray().ToArray();
        Assert.Equal(expected.Length, variants.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            var (path, _, width, format) = expected[i];
            string bin = Path.Combine(project.BinDirectory, path);
            Assert.Equal("/" + path.Substring("wwwroot/".Length), variants[i].GetProperty("url").GetString());
            Assert.Equal(format, variants[i].GetProperty("format").GetString());
            Assert.Equal(width, variants[i].GetProperty("width").GetInt32());
            Assert.Equal(ImageFile.Read(bin).Height, variants[i].GetProperty("height").GetInt32());
            Assert.Equal(new FileInfo(bin).Length, variants[i].GetProperty("bytes").GetInt64());
        }

        // The same build again changes nothing and writes the same manifest.
        byte[] before = File.ReadAllBytes(manifestPath);
        DotNetResult second = project.Build();
        Assert.True(second.Succeeded, second.ToString());
        Assert.StartsWith("KoalaPic: 4 images, 0 converted, 4 up to date, ", second.Summary);
        Assert.Equal(before, File.ReadAllBytes(manifestPath));
    }

    [Fact]
    public void Effort_ReachesTheAvifEncoder_AndChangingItConvertsOnlyTheFormatsThatHaveOne()
    {
        string avif = Path.Combine(project.BinDirectory, "wwwroot", "img", "photo.avif");
        project.SetKoalaImages("""<KoalaImage Include="wwwroot/img/*.jpg" Format="avif;jpg" Width="200" Effort="0" />""");
        DotNetResult fastest = project.Build();
        Assert.True(fastest.Succeeded, fastest.ToString());
        // jpg has no effort setting, but avif in the same item has: no KP1025 warning.
        Assert.DoesNotContain("KP1025", fastest.ToString());
        byte[] atEffort0 = File.ReadAllBytes(avif);

        project.SetKoalaImages("""<KoalaImage Include="wwwroot/img/*.jpg" Format="avif;jpg" Width="200" Effort="6" />""");
        DotNetResult slower = project.Build();

        Assert.True(slower.Succeeded, slower.ToString());
        // The avif's cache key has its effort; the jpg's has none, so it stays up to date.
        Assert.StartsWith("KoalaPic: 2 images, 1 converted, 1 up to date, ", slower.Summary);
        Assert.Equal("VipsForeignLoadHeifBuffer", ImageFile.Read(avif).Loader);
        Assert.NotEqual(atEffort0, File.ReadAllBytes(avif));
    }

    [Fact]
    public void WidthAndWidths_FailsWithKP1017()
    {
        project.SetKoalaImages("""<KoalaImage Include="wwwroot/img/*.jpg" Format="webp" Width="300" Widths="200;400" />""");

        DotNetResult result = project.Build();

        Assert.False(result.Succeeded, result.ToString());
        Assert.Contains("KP1017", result.ToString());
    }
}
