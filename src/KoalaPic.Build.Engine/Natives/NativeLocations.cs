using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
#if !NETFRAMEWORK
using System.Reflection;
using System.Runtime.Loader;
#endif

namespace KoalaPic.Build.Engine;

/// <summary>
/// Where the native libraries are, when they are not beside the engine, and their loading (which file: <see cref="NativeResolver"/>). The KoalaPic.Build package carries no natives:
/// restore brings the host's own (NetVips.Native.&lt;rid&gt;, and Magick.NET's when an item needs it) into the NuGet
/// folder with PackageDownload, and the build passes their folders here. Unset (tests, tools that reference the engine
/// with NetVips.Native), the runtime's usual probing (deps.json) finds them.
/// </summary>
/// <param name="LibvipsDirectory">The folder holding libvips (…/netvips.native.&lt;rid&gt;/&lt;version&gt;/runtimes/&lt;rid&gt;/native/).</param>
/// <param name="MagickDirectory">The folder holding Magick.Native (…/runtimes/&lt;rid&gt;/native/ of a Magick.NET package).</param>
/// <param name="RuntimeIdentifier">The host RID the folders were chosen for, as named in messages.</param>
public sealed record NativeLocations(string? LibvipsDirectory, string? MagickDirectory, string? RuntimeIdentifier = null)
{
    private static readonly object Gate = new();

    /// <summary>The locations in force for this process (the first one configured wins: a library loads once).</summary>
    public static NativeLocations? Current { get; private set; }

    /// <summary>libvips' file name on this machine.</summary>
    private static string LibvipsFileName => NativeResolver.LibvipsFileName(NativeHost.Current.Os);

    /// <summary>
    /// Sets where natives are loaded from, before libvips or ImageMagick is first used. Later calls with other folders
    /// are ignored once a library was loaded (one process, such as a reused MSBuild node, loads libvips once).
    /// </summary>
    public static void Configure(NativeLocations? locations)
    {
        if (locations == null || (string.IsNullOrEmpty(locations.LibvipsDirectory) && string.IsNullOrEmpty(locations.MagickDirectory)))
        {
            return;
        }

        lock (Gate)
        {
            if (Current == null || !VipsLoaded)
            {
                Current = locations;
            }
        }
    }

    private static bool VipsLoaded { get; set; }

    /// <summary>The absolute path of libvips that will be loaded, or null when the runtime's probing decides.</summary>
    internal static string? LibvipsPath =>
        string.IsNullOrEmpty(Current?.LibvipsDirectory) ? null : NativeResolver.LibvipsPath(Current!.LibvipsDirectory!, NativeHost.Current);

    /// <summary>
    /// Loads libvips by absolute path before NetVips makes its first native call (its module initializer). NetVips then
    /// asks for libvips by file name: glibc matches the loaded library's SONAME and Windows its module name; where that
    /// does not hold (macOS), the load context's resolving event answers with the same file.
    /// Must run before any NetVips type is touched, hence no inlining into a method that uses NetVips.
    /// </summary>
    /// <exception cref="EngineLoadException">A folder was configured and libvips is not in it or does not load.</exception>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void PreloadLibvips()
    {
#if !NETFRAMEWORK
        lock (Gate)
        {
            if (VipsLoaded)
            {
                return;
            }

            string? path = LibvipsPath;
            if (path == null)
            {
                return;
            }

            if (!File.Exists(path))
            {
                throw new EngineLoadException(
                    $"libvips for {Current!.RuntimeIdentifier ?? "this platform"} is not at '{path}'. " +
                    "KoalaPic.Build loads it from the NuGet package folder, where a build downloads NetVips.Native for the build machine when it is missing. " +
                    "Fix: build again with access to the package feed (nuget.org or a feed that has NetVips.Native), or delete that folder from the NuGet cache and build again; offline, set KoalaPicLibvipsDirectory to a folder holding libvips.",
                    null);
            }

            try
            {
                NativeLibrary.Load(path);
            }
            catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException)
            {
                throw new EngineLoadException($"libvips at '{path}' could not be loaded: {ex.Message}", ex);
            }

            RegisterResolver();
            VipsLoaded = true;
        }
#endif
    }

#if !NETFRAMEWORK
    private static bool resolverRegistered;

    /// <summary>
    /// NetVips registers its own DllImportResolver on its assembly (so none can be added there); the load context's
    /// resolving event runs after that and the runtime's probing have failed, and maps libvips' names (and glib's,
    /// which the single-file libvips exports) to the configured files.
    /// </summary>
    private static void RegisterResolver()
    {
        if (resolverRegistered)
        {
            return;
        }

        AssemblyLoadContext context = AssemblyLoadContext.GetLoadContext(typeof(NativeLocations).Assembly) ?? AssemblyLoadContext.Default;
        context.ResolvingUnmanagedDll += ResolveUnmanaged;
        resolverRegistered = true;
    }

    private static IntPtr ResolveUnmanaged(Assembly assembly, string libraryName)
    {
        string? folder = Current?.LibvipsDirectory;
        if (string.IsNullOrEmpty(folder))
        {
            return IntPtr.Zero;
        }

        string name = Path.GetFileName(libraryName);
        bool isLibvips = name.StartsWith("libvips", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("libglib", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("libgobject", StringComparison.OrdinalIgnoreCase)
            || name.Equals("vips", StringComparison.OrdinalIgnoreCase);
        if (!isLibvips)
        {
            return IntPtr.Zero;
        }

        // The exact file when the package has it (libvips-cpp and the like), else libvips itself, which exports glib.
        foreach (string candidate in new[] { Path.Combine(folder!, name), Path.Combine(folder!, LibvipsFileName) })
        {
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out IntPtr handle))
            {
                return handle;
            }
        }

        return IntPtr.Zero;
    }
#endif

    /// <summary>The configured Magick.Native folder, if any and if it exists.</summary>
    internal static string? MagickDirectoryIfExists =>
        !string.IsNullOrEmpty(Current?.MagickDirectory) && Directory.Exists(Current!.MagickDirectory) ? Current.MagickDirectory : null;

    /// <summary>
    /// The folder Magick.Native is loaded from: the one configured by the build (a Magick.NET package in the NuGet
    /// folder, which restore downloads when an item needs ImageMagick), else runtimes/&lt;rid&gt;/native beside the
    /// engine for this machine, if it exists; null leaves it to the runtime's usual probing (deps.json).
    /// </summary>
    internal static string? MagickFolder()
    {
        if (MagickDirectoryIfExists is string configured)
        {
            return configured;
        }

        string? engineFolder = Path.GetDirectoryName(typeof(NativeLocations).Assembly.Location);
        if (string.IsNullOrEmpty(engineFolder))
        {
            return null;
        }

        string folder = NativeResolver.PackageNativeFolder(engineFolder!, NativeHost.Current);
        return Directory.Exists(folder) ? folder : null;
    }

#if !NETFRAMEWORK
    /// <summary>
    /// Makes Magick.NET (<paramref name="magickAssembly"/>) load Magick.Native from <see cref="MagickFolder"/>. Inside
    /// MSBuild the task runs in its own load context and AppContext.BaseDirectory is the SDK's folder, so the library
    /// is found from where the engine is, not from the host; when the file is not there, the runtime's probing decides.
    /// </summary>
    internal static void RegisterMagickResolver(Assembly magickAssembly)
    {
        try
        {
            NativeLibrary.SetDllImportResolver(magickAssembly, ResolveMagick);
        }
        catch (InvalidOperationException)
        {
            // A resolver is already registered for Magick.NET in this load context.
        }
    }

    private static IntPtr ResolveMagick(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        string? folder = libraryName.StartsWith("Magick.Native", StringComparison.Ordinal) ? MagickFolder() : null;
        if (folder == null)
        {
            return IntPtr.Zero;
        }

        string? path = NativeResolver.MagickCandidates(folder, libraryName, NativeHost.Current.Os).FirstOrDefault(File.Exists);
        return path == null ? IntPtr.Zero : NativeLibrary.Load(path);
    }
#endif

    /// <summary>Paths named in a load failure's message.</summary>
    internal static IEnumerable<string> Probed() =>
        new[] { Current?.LibvipsDirectory }.Where(p => !string.IsNullOrEmpty(p)).Select(p => p!);
}
