using System.Reflection;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>
/// Packs KoalaPic.Build (and KoalaPic.AspNetCore) once per test run into a temporary folder feed, with a NuGet packages folder of its own, so
/// every scenario restores the package exactly as a user would and nothing leaks from or into ~/.nuget.
/// </summary>
public sealed class PackageFixture : IDisposable
{
    public PackageFixture()
    {
        Root = Directory.CreateTempSubdirectory("koalapic-it-").FullName;
        FeedDirectory = Path.Combine(Root, "feed");
        PackagesDirectory = Path.Combine(Root, "nuget-packages");
        Directory.CreateDirectory(FeedDirectory);
        PackagePath = Pack("KoalaPic.Build.Tasks", "KoalaPic.Build");
        Version = PackageVersion(PackagePath);
        SeedNatives();
        // The runtime package for ASP.NET Core apps (<koala-img>, <KoalaImg>), which reads the manifest KoalaPic.Build writes.
        Pack("KoalaPic.AspNetCore", "KoalaPic.AspNetCore");
    }

    /// <summary>The version the packages were packed with (Version.props, the one place it is set): what test projects reference.</summary>
    public string Version { get; }

    /// <summary>`dotnet pack src/&lt;project&gt;` into the feed; returns the package's path.</summary>
    private string Pack(string project, string packageId)
    {
        string projectFile = Path.Combine(Paths.RepositoryRoot, "src", project, project + ".csproj");
        DotNetResult pack = DotNet.Run(
            Paths.RepositoryRoot,
            new Dictionary<string, string> { ["NUGET_PACKAGES"] = MachinePackagesFolder },
            "pack", projectFile, "-c", "Release", "-o", FeedDirectory, "-nodeReuse:false");
        // "KoalaPic.Build.0.3.0.nupkg", not "KoalaPic.Build.Something.1.0.0.nupkg": the version follows the id.
        string[] packages = Directory.GetFiles(FeedDirectory, packageId + ".*.nupkg")
            .Where(p => Path.GetFileName(p).Length > packageId.Length + 1 && char.IsDigit(Path.GetFileName(p)[packageId.Length + 1]))
            .ToArray();
        if (!pack.Succeeded || packages.Length != 1)
        {
            throw new InvalidOperationException($"dotnet pack of {project} did not produce one {packageId}.<version>.nupkg in {FeedDirectory}:\n{pack.Output}");
        }

        return packages[0];
    }

    /// <summary>
    /// The machine's own NuGet packages folder, which packing this repository restores into (its dependencies are not in
    /// the test feed). Spelt without a trailing slash, as NUGET_PACKAGES often is: pack (and so every test here) failed
    /// that way in 0.2.0, when the project joined $(NuGetPackageRoot) and a name by hand.
    /// </summary>
    public static string MachinePackagesFolder =>
        (System.Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
            ? set
            : Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".nuget", "packages")).TrimEnd('/', '\\');

    /// <summary>The version in a package's .nuspec.</summary>
    private static string PackageVersion(string packagePath)
    {
        using System.IO.Compression.ZipArchive zip = System.IO.Compression.ZipFile.OpenRead(packagePath);
        System.IO.Compression.ZipArchiveEntry nuspec = zip.Entries.Single(e => !e.FullName.Contains('/') && e.FullName.EndsWith(".nuspec", StringComparison.OrdinalIgnoreCase));
        using Stream stream = nuspec.Open();
        return System.Xml.Linq.XDocument.Load(stream).Descendants().Single(e => e.Name.LocalName == "version" && e.Parent?.Name.LocalName == "metadata").Value;
    }

    /// <summary>
    /// KoalaPic.Build carries no natives: a project's first build downloads this machine's libvips (and Magick.NET, when
    /// an item needs ImageMagick) from the project's package sources. The test projects' only source is the test feed,
    /// so the native packages are put there, fetched with the package's own KoalaPic.Build.Natives.proj into a folder of
    /// their own; every test project still starts from an empty NuGet folder.
    /// </summary>
    private void SeedNatives()
    {
        var versions = System.Xml.Linq.XDocument.Load(Path.Combine(Paths.RepositoryRoot, "build", "KoalaPic.Build.Versions.props"))
            .Descendants().ToDictionary(e => e.Name.LocalName, e => e.Value);
        string seedPackages = Path.Combine(Root, "natives-seed");
        DotNetResult seed = DotNet.Run(
            Paths.RepositoryRoot,
            new Dictionary<string, string> { ["NUGET_PACKAGES"] = seedPackages },
            "restore", Path.Combine(Paths.RepositoryRoot, "build", "KoalaPic.Build.Natives.proj"),
            $"-p:KoalaPicLibvipsPackage=NetVips.Native.{HostRuntimeIdentifier}",
            $"-p:KoalaPicLibvipsVersion={versions["_KoalaPicNetVipsNativeVersion"]}",
            $"-p:KoalaPicMagickPackage={MagickPackage}",
            $"-p:KoalaPicMagickVersion={versions["_KoalaPicMagickNetVersion"]}",
            $"-p:BaseIntermediateOutputPath={Path.Combine(Root, "natives-seed-obj")}{Path.DirectorySeparatorChar}",
            $"-p:MSBuildProjectExtensionsPath={Path.Combine(Root, "natives-seed-obj")}{Path.DirectorySeparatorChar}",
            "-nodeReuse:false");
        string[] packages = Directory.Exists(seedPackages) ? Directory.GetFiles(seedPackages, "*.nupkg", SearchOption.AllDirectories) : Array.Empty<string>();
        if (!seed.Succeeded || packages.Length < 2)
        {
            throw new InvalidOperationException($"Could not fetch the native packages for {HostRuntimeIdentifier} into the test feed:\n{seed.Output}");
        }

        foreach (string package in packages)
        {
            File.Copy(package, Path.Combine(FeedDirectory, Path.GetFileName(package)), overwrite: true);
        }
    }

    /// <summary>This machine's RID as the SDK names it (portable), which is what KoalaPic.Build.targets downloads for.</summary>
    public static string HostRuntimeIdentifier => System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier;

    /// <summary>The Magick.NET package KoalaPic.Build.targets picks for this machine.</summary>
    public static string MagickPackage =>
        System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64
            ? "Magick.NET-Q8-x64"
            : "Magick.NET-Q8-AnyCPU";

    public string Root { get; }

    public string FeedDirectory { get; }

    public string PackagesDirectory { get; }

    public string PackagePath { get; }

    /// <summary>The environment every scenario build runs with: the isolated packages folder.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["NUGET_PACKAGES"] = PackagesDirectory,
    };

    public void Dispose()
    {
        if (TestProject.KeepForInspection)
        {
            return;
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PackageCollection : ICollectionFixture<PackageFixture>
{
    public const string Name = "KoalaPic.Build package";
}

public static class Paths
{
    public static string RepositoryRoot { get; } = Path.GetFullPath(
        typeof(Paths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!);

    public static string Corpus { get; } = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "corpus"));

    public static string Fixture(string name) => Path.Combine(Corpus, "fixtures", name);
}
