using System.IO.Compression;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>
/// The package without natives: its size, the build machine's natives downloaded into an empty NuGet folder by the
/// first build (and only those), KP0005 for a machine without libvips, and a no-op build that runs no converter.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class PackageNativesTests : IDisposable
{
    private readonly PackageFixture package;
    private readonly TestProject project;

    public PackageNativesTests(PackageFixture package)
    {
        this.package = package;
        project = TestProject.Create(package, "ConsoleApp");
        project.AddImage("concert.jpg", "img/concert.jpg");
        project.AddImage("with-alpha.png", "img/with-alpha.png");
    }

    public void Dispose() => project.Dispose();

    [Fact]
    public void Package_IsUnder5MB_AndCarriesNoNativeLibrary()
    {
        Assert.InRange(new FileInfo(package.PackagePath).Length, 1, 5_000_000);
        using ZipArchive zip = ZipFile.OpenRead(package.PackagePath);
        string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
        // The licence notices of libvips and ImageMagick stay (NetVips and Magick.NET's managed DLLs are packed).
        Assert.DoesNotContain(entries.Where(e => !e.StartsWith("THIRD-PARTY-NOTICES-", StringComparison.Ordinal)), e => e.Contains("runtimes/", StringComparison.OrdinalIgnoreCase)
                                            || e.Contains("libvips", StringComparison.OrdinalIgnoreCase)
                                            || e.Contains("Magick.Native", StringComparison.OrdinalIgnoreCase)
                                            || e.EndsWith(".so", StringComparison.OrdinalIgnoreCase)
                                            || e.EndsWith(".dylib", StringComparison.OrdinalIgnoreCase));
        Assert.Contains("build/KoalaPic.Build.Natives.proj", entries);
        Assert.Contains("build/KoalaPic.Build.Versions.props", entries);
        Assert.Contains("tasks/net8.0/NetVips.dll", entries);
        Assert.Contains("tasks/net472/KoalaPic.Build.Tasks.dll", entries);
    }

    [Fact]
    public void Package_CarriesEveryFileOfTheBuildFolders()
    {
        // KoalaPic.Build.targets imports its sibling files: one left out of the package fails every consumer's build.
        using ZipArchive zip = ZipFile.OpenRead(package.PackagePath);
        string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
        string build = Path.Combine(Paths.RepositoryRoot, "build");
        string[] expected = Directory.GetFiles(build).Select(f => "build/" + Path.GetFileName(f))
            .Concat(Directory.GetFiles(Path.Combine(build, "multitargeting")).Select(f => "buildMultiTargeting/" + Path.GetFileName(f)))
            .ToArray();

        Assert.Contains("build/KoalaPic.Build.Natives.targets", expected);
        Assert.All(expected, file => Assert.Contains(file, entries));
    }

    [Fact]
    public void Package_CarriesMagickNetForEveryArchitecture_NotTheX64OneThisRepositoryBuildsWith()
    {
        // Builds of this repository compile against Magick.NET-Q8-x64 on x64 machines (src/KoalaPic.Build.DevelopmentNatives.props);
        // the package must carry the AnyCPU assembly, which loads the Magick.Native of an arm64 or x86 consumer too.
        using ZipArchive zip = ZipFile.OpenRead(package.PackagePath);
        string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
        Assert.Contains("tasks/net8.0/Magick.NET-Q8-AnyCPU.dll", entries);
        Assert.DoesNotContain(entries, e => e.Contains("Magick.NET-Q8-x64", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>`dotnet build` with a NuGet folder of its own, empty: as on a machine that never built with KoalaPic.</summary>
    private (string Packages, DotNetResult Result) BuildIntoAnEmptyNuGetFolder()
    {
        string packages = Path.Combine(project.Directory, "fresh-nuget");
        DotNetResult result = DotNet.Run(
            project.Directory,
            new Dictionary<string, string> { ["NUGET_PACKAGES"] = packages },
            "build", project.ProjectFile, "-nodeReuse:false");
        return (packages, result);
    }

    [Fact]
    public void FirstBuild_IntoAnEmptyNuGetFolder_DownloadsThisMachinesLibvipsOnly()
    {
        var (packages, result) = BuildIntoAnEmptyNuGetFolder();

        Assert.True(result.Succeeded, result.ToString());
        Assert.StartsWith("KoalaPic: 2 images, 2 converted, 0 up to date, ", result.Summary);
        string[] folders = Directory.GetDirectories(packages).Select(Path.GetFileName).ToArray()!;
        Assert.Contains("netvips.native." + PackageFixture.HostRuntimeIdentifier, folders);
        // webp output needs no ImageMagick, and no other platform's libvips comes along.
        Assert.DoesNotContain(folders, f => f.StartsWith("magick", StringComparison.Ordinal));
        Assert.Single(folders, f => f.StartsWith("netvips.native", StringComparison.Ordinal));
    }

    [Fact]
    public void IcoItem_DownloadsImageMagickForThisMachine_AndConverts()
    {
        project.SetKoalaImages("""<KoalaImage Include="img/with-alpha.png" OptimizeFor="favicon" Link="favicon.ico" />""");
        var (packages, result) = BuildIntoAnEmptyNuGetFolder();

        Assert.True(result.Succeeded, result.ToString());
        Assert.StartsWith("KoalaPic: 1 images, 1 converted, 0 up to date, ", result.Summary);
        Assert.True(File.Exists(Path.Combine(project.BinDirectory, "favicon.ico")));
        Assert.True(Directory.Exists(Path.Combine(packages, PackageFixture.MagickPackage.ToLowerInvariant())));
    }

    [Fact]
    public void UnsupportedHost_FailsWithKP0005_NamingThePlatform()
    {
        DotNetResult result = project.Build("-p:KoalaPicHostRuntimeIdentifier=freebsd-x64");

        Assert.False(result.Succeeded, result.ToString());
        Assert.Contains("error KP0005", result.Output);
        Assert.Contains("'freebsd-x64'", result.Output);
        Assert.DoesNotContain(result.KoalaPicLines, l => l.Contains(" images, ", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(package.PackagesDirectory, "netvips.native.freebsd-x64")));
    }

    [Fact]
    public void NoOpBuild_SkipsTheConverter_InProcessAndOutOfProcess()
    {
        foreach (string outOfProcess in new[] { "false", "true" })
        {
            DotNetResult first = project.Build($"-p:KoalaPicOutOfProcess={outOfProcess}");
            Assert.True(first.Succeeded, first.ToString());
            string report = Path.Combine(project.Directory, "obj", "Debug", "net10.0", "koalapic", "report.json");
            DateTime written = File.GetLastWriteTimeUtc(report);

            DotNetResult second = project.Build($"-p:KoalaPicOutOfProcess={outOfProcess}");
            Assert.True(second.Succeeded, second.ToString());
            Assert.Equal("KoalaPic: 2 images, 0 converted, 2 up to date, nothing to convert (nothing changed since the last build)", second.Summary);
            Assert.Equal(written, File.GetLastWriteTimeUtc(report));

            Directory.Delete(project.BinDirectory, recursive: true);
            DotNetResult third = project.Build($"-p:KoalaPicOutOfProcess={outOfProcess}", "-v:d");
            Assert.True(third.Succeeded, third.ToString());
            Assert.Contains("Skipping target \"_KoalaPicRunConverter\" because all output files are up-to-date", third.Output);
            Assert.True(File.Exists(Path.Combine(project.BinDirectory, "img", "concert.webp")));
            Assert.True(File.Exists(Path.Combine(project.BinDirectory, "img", "with-alpha.webp")));
        }
    }
}
