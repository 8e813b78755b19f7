using System.Reflection;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>
/// Packs KoalaPic.Build (and KoalaPic.AspNetCore) once per test run into a temporary folder feed, with a NuGet packages folder of its own, so
/// every scenario restores the package exactly as a user would and nothing leaks from or into ~/.nuget.
/// </summary>
public sealed class PackageFixture : IDisposable
{
    public const string Version = "0.2.0";

    public PackageFixture()
    {
        Root = Directory.CreateTempSubdirectory("koalapic-it-").FullName;
        FeedDirectory = Path.Combine(Root, "feed");
        PackagesDirectory = Path.Combine(Root, "nuget-packages");
        Directory.CreateDirectory(FeedDirectory);
        string tasksProject = Path.Combine(Paths.RepositoryRoot, "src", "KoalaPic.Build.Tasks", "KoalaPic.Build.Tasks.csproj");
        DotNetResult pack = DotNet.Run(
            Paths.RepositoryRoot,
            new Dictionary<string, string>(),
            "pack", tasksProject, "-c", "Release", "-o", FeedDirectory, "-nodeReuse:false");
        if (!pack.Succeeded)
        {
            throw new InvalidOperationException("dotnet pack failed:\n" + pack.Output);
        }

        PackagePath = Path.Combine(FeedDirectory, $"KoalaPic.Build.{Version}.nupkg");
        if (!File.Exists(PackagePath))
        {
            throw new InvalidOperationException($"dotnet pack did not produce {PackagePath}:\n{pack.Output}");
        }

        // The runtime package for ASP.NET Core apps (<koala-img>, <KoalaImg>), which reads the manifest KoalaPic.Build writes.
        string aspNetCoreProject = Path.Combine(Paths.RepositoryRoot, "src", "KoalaPic.AspNetCore", "KoalaPic.AspNetCore.csproj");
        DotNetResult packAspNetCore = DotNet.Run(
            Paths.RepositoryRoot,
            new Dictionary<string, string>(),
            "pack", aspNetCoreProject, "-c", "Release", "-o", FeedDirectory, "-nodeReuse:false");
        if (!packAspNetCore.Succeeded || !File.Exists(Path.Combine(FeedDirectory, $"KoalaPic.AspNetCore.{Version}.nupkg")))
        {
            throw new InvalidOperationException("dotnet pack of KoalaPic.AspNetCore failed:\n" + packAspNetCore.Output);
        }
    }

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
