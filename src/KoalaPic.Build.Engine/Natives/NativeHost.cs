using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace KoalaPic.Build.Engine;

/// <summary>The operating systems whose native libraries are named differently.</summary>
public enum NativeOs
{
    Windows,
    MacOS,
    Linux,
}

/// <summary>
/// A machine that loads natives, as its runtime identifier names it (win-x64, osx-arm64, linux-musl-arm64, …): the
/// operating system and architecture that decide which file is loaded (<see cref="NativeResolver"/>). Parsed from a
/// RID, so that the files another host would load can be checked here.
/// </summary>
public sealed record NativeHost(string RuntimeIdentifier, NativeOs Os, string Architecture)
{
    private static readonly string[] Architectures = { "x64", "x86", "arm64", "arm" };

    /// <summary>The host a portable RID names, or null for one KoalaPic has no natives for (freebsd-x64, browser-wasm, …).</summary>
    public static NativeHost? Parse(string runtimeIdentifier)
    {
        string rid = runtimeIdentifier.Trim();
        int dash = rid.LastIndexOf('-');
        if (dash <= 0)
        {
            return null;
        }

        string platform = rid.Substring(0, dash);
        string architecture = rid.Substring(dash + 1);
        NativeOs? os = platform switch
        {
            "win" => NativeOs.Windows,
            "osx" => NativeOs.MacOS,
            "linux" or "linux-musl" => NativeOs.Linux,
            _ => null,
        };
        return os is NativeOs known && Architectures.Contains(architecture) ? new NativeHost(rid, known, architecture) : null;
    }

    /// <summary>This process: win|osx|linux|linux-musl, then the process architecture.</summary>
    public static NativeHost Current { get; } = Detect();

    private static NativeHost Detect()
    {
        NativeOs os = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? NativeOs.Windows
            : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? NativeOs.MacOS
            : NativeOs.Linux;
        string platform = os switch
        {
            NativeOs.Windows => "win",
            NativeOs.MacOS => "osx",
            _ => IsMusl() ? "linux-musl" : "linux",
        };
        string architecture = RuntimeInformation.ProcessArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => "x64",
            System.Runtime.InteropServices.Architecture.X86 => "x86",
            System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
            System.Runtime.InteropServices.Architecture.Arm => "arm",
            var other => other.ToString().ToLowerInvariant(),
        };
        return new NativeHost(platform + "-" + architecture, os, architecture);
    }

    private static bool IsMusl()
    {
#if !NETFRAMEWORK
        if (RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.Ordinal))
        {
            return true;
        }
#endif

        try
        {
            return Directory.Exists("/lib") && Directory.EnumerateFiles("/lib", "ld-musl-*").Any();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
