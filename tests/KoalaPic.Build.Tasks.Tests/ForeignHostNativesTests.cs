using System.Text.Json;
using KoalaPic.Build.Engine;
using KoalaPic.Build.IntegrationTests;
using Xunit;

namespace KoalaPic.Build.Tasks.Tests;

/// <summary>
/// The natives of build machines this one cannot be (Windows, Apple silicon, Linux on ARM), covered by layout: the
/// targets say which packages they would download on that host, the real packages are restored with the package's own
/// build/KoalaPic.Build.Natives.proj, and <see cref="NativeResolver"/> must name a file that exists in them and is
/// built for that host. Nothing is loaded: only linux-x64 runs the tests.
/// </summary>
public sealed class ForeignHostNativesTests : IClassFixture<ForeignHostNatives>
{
    private readonly ForeignHostNatives natives;

    public ForeignHostNativesTests(ForeignHostNatives natives) => this.natives = natives;

    [Theory]
    [InlineData("win-x64", "libvips-42.dll")]
    [InlineData("osx-arm64", "libvips.42.dylib")]
    [InlineData("linux-arm64", "libvips.so.42")]
    public void The_resolver_finds_the_libvips_that_host_loads_in_the_package_the_targets_download(string rid, string fileName)
    {
        ForeignHostNatives.Host host = natives.For(rid);
        Assert.Equal("NetVips.Native." + rid, host.LibvipsPackage);

        string path = NativeResolver.LibvipsPath(host.LibvipsDirectory, host.Native);

        Assert.Equal(fileName, Path.GetFileName(path));
        Assert.True(File.Exists(path), $"{path} is not in NetVips.Native.{rid} (files: {Listing(host.LibvipsDirectory)})");
        var (os, architectures) = NativeBinary.Read(path);
        Assert.Equal(host.Native.Os, os);
        Assert.Contains(host.Native.Architecture, architectures);
    }

    [Theory]
    [InlineData("win-x64", "Magick.NET-Q8-x64", "Magick.Native-Q8-x64.dll")]
    [InlineData("osx-arm64", "Magick.NET-Q8-AnyCPU", "Magick.Native-Q8-arm64.dll.dylib")]
    [InlineData("linux-arm64", "Magick.NET-Q8-AnyCPU", "Magick.Native-Q8-arm64.dll.so")]
    public void The_resolver_finds_the_Magick_Native_that_host_loads_in_the_package_the_targets_download(string rid, string package, string fileName)
    {
        ForeignHostNatives.Host host = natives.For(rid);

        string path = NativeResolver.MagickPath(host.MagickDirectory, host.Native);

        Assert.Equal(package, host.MagickPackage);
        Assert.Equal(fileName, Path.GetFileName(path));
        Assert.True(File.Exists(path), $"{path} is not in {package} (files: {Listing(host.MagickDirectory)})");
        var (os, architectures) = NativeBinary.Read(path);
        Assert.Equal(host.Native.Os, os);
        Assert.Contains(host.Native.Architecture, architectures);
        // What Magick.NET asks for on every OS: the resolver's first existing candidate is that same file.
        string asked = "Magick.Native-Q8-" + host.Native.Architecture + ".dll";
        Assert.Equal(path, NativeResolver.MagickCandidates(host.MagickDirectory, asked, host.Native.Os).First(File.Exists));
    }

    private static string Listing(string folder) =>
        Directory.Exists(folder) ? string.Join(", ", Directory.EnumerateFiles(folder).Select(Path.GetFileName)) : "no such folder";
}

/// <summary>
/// Restores, once for the test class, the natives three foreign hosts would download into an empty NuGet folder (about
/// 170 MB; NuGet's HTTP cache keeps later runs local), and asks the real targets, for each host, which packages they use.
/// </summary>
public sealed class ForeignHostNatives : IDisposable
{
    public static readonly string[] RuntimeIdentifiers = { "win-x64", "osx-arm64", "linux-arm64" };

    private readonly Dictionary<string, Host> hosts = new(StringComparer.Ordinal);

    public ForeignHostNatives()
    {
        Root = Path.Combine(Path.GetTempPath(), "koalapic-foreign-natives-" + Guid.NewGuid().ToString("N").Substring(0, 12));
        NuGetRoot = Path.Combine(Root, "packages") + Path.DirectorySeparatorChar;
        Directory.CreateDirectory(NuGetRoot);
        var versions = System.Xml.Linq.XDocument.Load(Path.Combine(BuildFolder, "KoalaPic.Build.Versions.props"))
            .Descendants().ToDictionary(e => e.Name.LocalName, e => e.Value);
        LibvipsVersion = versions["_KoalaPicNetVipsNativeVersion"];
        MagickVersion = versions["_KoalaPicMagickNetVersion"];
        string evaluated = Path.Combine(Root, "evaluate.proj");
        File.WriteAllText(evaluated, $"<Project>\n  <Import Project=\"{Path.Combine(BuildFolder, "KoalaPic.Build.targets")}\" />\n</Project>\n");
        foreach (string rid in RuntimeIdentifiers)
        {
            Host host = AskTargets(evaluated, rid);
            Restore(host);
            hosts[rid] = host;
        }
    }

    /// <summary>A host as the targets see it: its packages, and the folders in them that hold its natives.</summary>
    public sealed record Host(NativeHost Native, string LibvipsPackage, string MagickPackage, string LibvipsDirectory, string MagickDirectory);

    public string Root { get; }

    public string NuGetRoot { get; }

    public string LibvipsVersion { get; }

    public string MagickVersion { get; }

    public Host For(string rid) => hosts[rid];

    /// <summary>Where NuGet puts a package (lower-cased id, then version).</summary>
    public string PackageFolder(string id, string version) => Path.Combine(NuGetRoot, id.ToLowerInvariant(), version);

    private static string BuildFolder => Path.Combine(TaskSupport.RepositoryRoot, "build");

    /// <summary>
    /// Evaluates the targets as a build on that host would and reads the packages they download there; the folders are
    /// where NuGet puts those packages' runtimes/&lt;rid&gt;/native (the targets compute the same in a target that needs
    /// the task assembly, so it is not run here).
    /// </summary>
    private Host AskTargets(string project, string rid)
    {
        DotNetResult result = DotNet.Run(
            Root,
            new Dictionary<string, string>(),
            "msbuild", project, "-nodeReuse:false", $"-p:KoalaPicHostRuntimeIdentifier={rid}",
            "-getProperty:_KoalaPicLibvipsPackage", "-getProperty:_KoalaPicMagickPackage");
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"The targets could not be evaluated for {rid}:\n{result}");
        }

        JsonElement properties = JsonDocument.Parse(result.Output[result.Output.IndexOf('{')..]).RootElement.GetProperty("Properties");
        string Property(string name) => properties.GetProperty(name).GetString() is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"The targets set no {name} for {rid}:\n{result}");
        NativeHost native = NativeHost.Parse(rid) ?? throw new InvalidOperationException($"NativeHost cannot parse {rid}");
        string libvips = Property("_KoalaPicLibvipsPackage");
        string magick = Property("_KoalaPicMagickPackage");
        return new Host(
            native,
            libvips,
            magick,
            NativeResolver.PackageNativeFolder(PackageFolder(libvips, LibvipsVersion), native),
            NativeResolver.PackageNativeFolder(PackageFolder(magick, MagickVersion), native));
    }

    /// <summary>What a first build on that host downloads: the package's own natives project, into this NuGet folder.</summary>
    private void Restore(Host host)
    {
        string obj = Path.Combine(Root, "obj-" + host.Native.RuntimeIdentifier) + Path.DirectorySeparatorChar;
        DotNetResult result = DotNet.Run(
            Root,
            new Dictionary<string, string> { ["NUGET_PACKAGES"] = NuGetRoot },
            "restore", Path.Combine(BuildFolder, "KoalaPic.Build.Natives.proj"), "-nodeReuse:false",
            $"-p:KoalaPicLibvipsPackage={host.LibvipsPackage}", $"-p:KoalaPicLibvipsVersion={LibvipsVersion}",
            $"-p:KoalaPicMagickPackage={host.MagickPackage}", $"-p:KoalaPicMagickVersion={MagickVersion}",
            $"-p:BaseIntermediateOutputPath={obj}", $"-p:MSBuildProjectExtensionsPath={obj}");
        if (!result.Succeeded || !Directory.Exists(PackageFolder(host.LibvipsPackage, LibvipsVersion)) || !Directory.Exists(PackageFolder(host.MagickPackage, MagickVersion)))
        {
            throw new InvalidOperationException($"Could not restore the natives of {host.Native.RuntimeIdentifier} ({host.LibvipsPackage}, {host.MagickPackage}):\n{result}");
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
