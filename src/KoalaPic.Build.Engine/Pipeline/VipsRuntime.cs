using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;

namespace KoalaPic.Build.Engine;

/// <summary>Thrown when libvips cannot be loaded; its message says the platform, what was probed and the fix.</summary>
public sealed class EngineLoadException : Exception
{
    public EngineLoadException(string message, Exception? inner) : base(message, inner) { }
}

/// <summary>
/// Process-wide libvips set-up, done once: untrusted loaders blocked, the operation cache off (a build must see
/// the bytes on disk now, not what a long-lived MSBuild node decoded earlier), and libvips' own thread count chosen
/// so that file-level parallelism times libvips threads does not oversubscribe the cores.
/// </summary>
public static class VipsRuntime
{
    private static readonly object Gate = new();
    private static string? libvipsVersion;

    /// <summary>The libvips version, such as 8.18.7; loads libvips if needed.</summary>
    public static string LibvipsVersion
    {
        get
        {
            EnsureInitialized();
            return libvipsVersion!;
        }
    }

    /// <summary>
    /// The libvips version this engine was built against and ships (NetVips.Native's package version), read from the
    /// assembly's metadata without loading libvips: it names the NuGet folder the natives are found in. The cache key
    /// uses <see cref="LibvipsVersion"/>, the one that loaded, which differs with <c>KoalaPicLibvipsDirectory</c>.
    /// </summary>
    public static string BundledLibvipsVersion { get; } =
        typeof(VipsRuntime).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "KoalaPic.LibvipsVersion")?.Value ?? "unknown";

    private static string? engineVersion;

    /// <summary>
    /// Engine version plus the version of the libvips that is loaded, as it reports itself at run time: part of every
    /// cache key, so builds on different libvips builds (a <c>KoalaPicLibvipsDirectory</c> of one's own) never share
    /// entries whose bytes may differ. Loads libvips; a build in which nothing changed skips the converter and never
    /// gets here (PrepareKoalaPicRun).
    /// </summary>
    /// <exception cref="EngineLoadException">libvips is missing or cannot start on this platform.</exception>
    public static string EngineVersion => engineVersion ??= EngineVersionWith(LibvipsVersion);

    /// <summary>
    /// This engine's version with <paramref name="libvips"/>'s. The "+commit" suffix of the informational version is
    /// left out, so a rebuild of the same release does not invalidate caches; changes of output between commits of one
    /// release bump <see cref="ContentKey"/>'s schema instead.
    /// </summary>
    internal static string EngineVersionWith(string libvips)
    {
        string version = typeof(VipsRuntime).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";
        int plus = version.IndexOf('+');
        return (plus < 0 ? version : version.Substring(0, plus)) + "+libvips-" + libvips;
    }

    /// <summary>libvips worker threads per image for a given number of images converted at once.</summary>
    public static int ThreadsPerImage(int parallelImages) => Math.Max(1, Environment.ProcessorCount / Math.Max(1, parallelImages));

    /// <param name="parallelImages">How many images the caller converts at once, which sets libvips' threads per image;
    /// null leaves the current setting.</param>
    /// <exception cref="EngineLoadException">libvips is missing or cannot start on this platform.</exception>
    public static void EnsureInitialized(int? parallelImages = null)
    {
        lock (Gate)
        {
            if (libvipsVersion == null)
            {
                try
                {
                    // Before any NetVips type is touched: NetVips' module initializer loads libvips by file name.
                    NativeLocations.PreloadLibvips();
                    Start();
                }
                catch (Exception ex) when (ex is not EngineLoadException)
                {
                    throw LoadFailure(ex);
                }
            }

            if (parallelImages is int images)
            {
                SetConcurrency(ThreadsPerImage(images));
            }
        }
    }

    /// <summary>Raises libvips' worker threads per image to <paramref name="threads"/> if it is lower; never lowers it.</summary>
    internal static void RaiseThreadsPerImage(int threads)
    {
        lock (Gate)
        {
            if (libvipsVersion != null && threads > CurrentConcurrency())
            {
                SetConcurrency(threads);
            }
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int CurrentConcurrency() => global::NetVips.NetVips.Concurrency;

    // Kept out of EnsureInitialized, which must not reference NetVips before the preload.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void SetConcurrency(int threads) => global::NetVips.NetVips.Concurrency = threads;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Start()
    {
        if (!global::NetVips.ModuleInitializer.VipsInitialized)
        {
            throw LoadFailure(global::NetVips.ModuleInitializer.Exception);
        }

        RestrictLoaders();

        // libvips prints decode warnings to stderr, where they would land in the build log without a file or code;
        // failures reach the caller as exceptions with the same text instead.
        global::NetVips.Log.SetLogHandler("VIPS", global::NetVips.Enums.LogLevelFlags.Warning | global::NetVips.Enums.LogLevelFlags.Message | global::NetVips.Enums.LogLevelFlags.Info | global::NetVips.Enums.LogLevelFlags.Debug, IgnoreLog);
        global::NetVips.Cache.Max = 0;
        global::NetVips.Cache.MaxFiles = 0;
        global::NetVips.Cache.MaxMem = 0;
        libvipsVersion = string.Join(
            ".",
            global::NetVips.NetVips.Version(0),
            global::NetVips.NetVips.Version(1),
            global::NetVips.NetVips.Version(2));
    }

    /// <summary>
    /// Where the engine copies of a process keep the loader classes any of them allows: the AppDomain's data, which
    /// every assembly load context sees (a string array, a type they share), guarded by the interned key, the one
    /// object they all can lock on.
    /// </summary>
    internal const string AllowedInProcessKey = "KoalaPic.Build.Engine.VipsRuntime.AllowedLoaders";

    /// <summary>
    /// Blocks, in libvips itself, every loader class that no engine copy in the process allows, and unblocks the allowed
    /// ones (VIPS_BLOCK_UNTRUSTED would block SVG, which libvips counts as untrusted). Runs again, on the one native
    /// libvips, whenever another engine copy starts (MSBuild loading two KoalaPic versions into one node), while images
    /// convert on other threads: that must never block a loader one of the copies reads. A loader only another copy
    /// allows stays open in libvips; this copy still refuses it, as every load first checks
    /// <see cref="ImageConverter.AllowedLoaders"/>.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    internal static void RestrictLoaders()
    {
        lock (string.Intern(AllowedInProcessKey))
        {
            string[] allowed = (AppDomain.CurrentDomain.GetData(AllowedInProcessKey) as string[] ?? Array.Empty<string>())
                .Union(ImageConverter.AllowedLoaders.Keys, StringComparer.Ordinal)
                .ToArray();
            AppDomain.CurrentDomain.SetData(AllowedInProcessKey, allowed);

            // Not libvips' documented pattern of blocking "VipsForeignLoad" and then unblocking the allowed classes:
            // vips_operation_block_set sets the flag on the named class and every class below it, so between the two
            // calls every loader is blocked, and a conversion on another thread failed with "jpegload_buffer: operation
            // is blocked". Each class outside the allow-list is blocked by itself instead, and the allowed ones are only
            // ever unblocked, so their flag never changes while this runs. (No class outside the list has an allowed
            // class below it in libvips' tree, which blocking it would block too: LoaderAllowListTests checks that.)
            foreach (string loader in LoadersOutside(allowed))
            {
                global::NetVips.Operation.Block(loader, true);
            }

            foreach (string loader in allowed)
            {
                global::NetVips.Operation.Block(loader, false);
            }
        }
    }

    /// <summary>
    /// The concrete libvips loader classes, by type name, that are neither in <paramref name="allowed"/> nor below a
    /// class in it. Found through NetVips' list of every operation of the libvips in use, so a loader a later libvips
    /// adds is in it.
    /// </summary>
    internal static List<string> LoadersOutside(IReadOnlyCollection<string> allowed)
    {
        const string loaderBase = "VipsForeignLoad";
        return global::NetVips.NetVips.GetOperations()
            .Select(nickname => global::NetVips.NetVips.TypeFind(loaderBase, nickname))
            .Where(type => type != IntPtr.Zero)
            .Select(type => global::NetVips.NetVips.TypeName(type))
            // TypeFind below an allowed class finds only the classes it is or has below it, by type name too.
            .Where(loader => !allowed.Any(parent => global::NetVips.NetVips.TypeFind(parent, loader) != IntPtr.Zero))
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    private static void IgnoreLog(string domain, global::NetVips.Enums.LogLevelFlags level, string message) { }

    private static EngineLoadException LoadFailure(Exception? cause)
    {
        string folder = Path.GetDirectoryName(typeof(VipsRuntime).Assembly.Location) ?? "?";
        string rid = RuntimeInformation.OSDescription + " " + RuntimeInformation.ProcessArchitecture;
        string probed = NativeLocations.LibvipsPath is string path
            ? $"Loaded '{path}' (NetVips.Native for {NativeLocations.Current?.RuntimeIdentifier ?? "this platform"}, downloaded into the NuGet package folder). "
            : $"Probed the engine folder '{folder}' and its runtimes/<rid>/native/ subfolders. ";
        return new EngineLoadException(
            $"The image engine (libvips) could not be loaded on {rid} ({RuntimeInformation.FrameworkDescription}). " +
            probed +
            "Supported: linux-x64, linux-arm64, linux-arm, linux-musl-x64, linux-musl-arm64, osx-x64, osx-arm64, win-x64, win-x86, win-arm64. " +
            "Fix: build with 'dotnet build' (SDK 8 or later) on one of those platforms, and make sure the NetVips.Native package folder is complete (delete it from the NuGet cache and restore again). " +
            "Cause: " + (cause?.Message ?? "unknown"),
            cause);
    }
}
