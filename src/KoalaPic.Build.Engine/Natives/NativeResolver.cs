using System.Collections.Generic;
using System.IO;

namespace KoalaPic.Build.Engine;

/// <summary>
/// Which native library file a host loads from a folder: libvips from a NetVips.Native package, Magick.Native from a
/// Magick.NET package. A pure function of the folder and the host, so the layout of every host's packages can be
/// checked on any machine (tests/KoalaPic.Build.Tasks.Tests/ForeignHostNativesTests.cs restores the real packages).
/// <see cref="NativeLocations"/> loads what it names.
/// </summary>
public static class NativeResolver
{
    /// <summary>libvips' file name in NetVips.Native on that operating system.</summary>
    public static string LibvipsFileName(NativeOs os) => os switch
    {
        NativeOs.Windows => "libvips-42.dll",
        NativeOs.MacOS => "libvips.42.dylib",
        _ => "libvips.so.42",
    };

    /// <summary>The libvips file a host loads from a folder holding libvips (KoalaPicLibvipsDirectory, or
    /// <see cref="PackageNativeFolder"/> of NetVips.Native.&lt;rid&gt;).</summary>
    public static string LibvipsPath(string folder, NativeHost host) => Path.Combine(folder, LibvipsFileName(host.Os));

    /// <summary>
    /// The name Magick.NET asks the runtime for (Magick.Native-Q8-&lt;arch&gt;.dll on every OS) followed by the suffix
    /// its packages add on that OS: Magick.Native-Q8-x64.dll, Magick.Native-Q8-arm64.dll.dylib, Magick.Native-Q8-arm64.dll.so.
    /// </summary>
    public static string MagickFileName(NativeHost host) => "Magick.Native-Q8-" + host.Architecture + ".dll" + MagickSuffix(host.Os);

    /// <summary>The Magick.Native file a host loads from a folder holding Magick.Native.</summary>
    public static string MagickPath(string folder, NativeHost host) => Path.Combine(folder, MagickFileName(host));

    /// <summary>
    /// The files tried, in order, when Magick.NET asks for <paramref name="libraryName"/>: the name as asked, then with
    /// this OS's suffix, then with the other Unix suffix (a folder named by KoalaPicMagickDirectory may hold either).
    /// </summary>
    public static IEnumerable<string> MagickCandidates(string folder, string libraryName, NativeOs os)
    {
        yield return Path.Combine(folder, libraryName);
        string own = MagickSuffix(os);
        if (own.Length > 0)
        {
            yield return Path.Combine(folder, libraryName + own);
        }

        foreach (string suffix in new[] { ".so", ".dylib" })
        {
            if (suffix != own)
            {
                yield return Path.Combine(folder, libraryName + suffix);
            }
        }
    }

    /// <summary>Where a NuGet package keeps a host's natives: &lt;package folder&gt;/runtimes/&lt;rid&gt;/native.</summary>
    public static string PackageNativeFolder(string packageFolder, NativeHost host) =>
        Path.Combine(packageFolder, "runtimes", host.RuntimeIdentifier, "native");

    private static string MagickSuffix(NativeOs os) => os switch
    {
        NativeOs.Windows => "",
        NativeOs.MacOS => ".dylib",
        _ => ".so",
    };
}
