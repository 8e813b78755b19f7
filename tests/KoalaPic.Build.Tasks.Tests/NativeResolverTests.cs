using System.Runtime.InteropServices;
using KoalaPic.Build.Engine;
using Xunit;

namespace KoalaPic.Build.Tasks.Tests;

/// <summary>NativeHost and NativeResolver as pure functions, and on this machine (the one host that runs the tests).</summary>
public sealed class NativeResolverTests
{
    [Theory]
    [InlineData("win-x64", NativeOs.Windows, "x64")]
    [InlineData("win-x86", NativeOs.Windows, "x86")]
    [InlineData("win-arm64", NativeOs.Windows, "arm64")]
    [InlineData("osx-x64", NativeOs.MacOS, "x64")]
    [InlineData("osx-arm64", NativeOs.MacOS, "arm64")]
    [InlineData("linux-x64", NativeOs.Linux, "x64")]
    [InlineData("linux-arm", NativeOs.Linux, "arm")]
    [InlineData("linux-musl-arm64", NativeOs.Linux, "arm64")]
    public void A_RID_names_the_operating_system_and_architecture(string rid, NativeOs os, string architecture)
    {
        Assert.Equal(new NativeHost(rid, os, architecture), NativeHost.Parse(rid));
    }

    [Theory]
    [InlineData("")]
    [InlineData("linux")]
    [InlineData("freebsd-x64")]
    [InlineData("browser-wasm")]
    [InlineData("linux-riscv64")]
    [InlineData("-x64")]
    public void A_RID_without_KoalaPic_natives_is_no_host(string rid)
    {
        Assert.Null(NativeHost.Parse(rid));
    }

    [Fact]
    public void This_machine_is_the_host_its_runtime_names()
    {
        Assert.Equal(NativeHost.Parse(RuntimeInformation.RuntimeIdentifier), NativeHost.Current);
    }

    [Theory]
    [InlineData("win-arm64", "libvips-42.dll", "Magick.Native-Q8-arm64.dll")]
    [InlineData("osx-x64", "libvips.42.dylib", "Magick.Native-Q8-x64.dll.dylib")]
    [InlineData("linux-musl-x64", "libvips.so.42", "Magick.Native-Q8-x64.dll.so")]
    public void The_files_a_host_loads_are_named_by_its_operating_system_and_architecture(string rid, string libvips, string magick)
    {
        NativeHost host = NativeHost.Parse(rid)!;

        Assert.Equal(Path.Combine("/natives", libvips), NativeResolver.LibvipsPath("/natives", host));
        Assert.Equal(Path.Combine("/natives", magick), NativeResolver.MagickPath("/natives", host));
        Assert.Equal(Path.Combine("/p", "runtimes", rid, "native"), NativeResolver.PackageNativeFolder("/p", host));
    }

    [Fact]
    public void Magick_candidates_try_the_name_asked_then_this_systems_suffix_then_the_other()
    {
        Assert.Equal(
            new[] { "/n/M.dll", "/n/M.dll.so", "/n/M.dll.dylib" },
            NativeResolver.MagickCandidates("/n", "M.dll", NativeOs.Linux));
        Assert.Equal(
            new[] { "/n/M.dll", "/n/M.dll.dylib", "/n/M.dll.so" },
            NativeResolver.MagickCandidates("/n", "M.dll", NativeOs.MacOS));
        Assert.Equal("/n/M.dll", NativeResolver.MagickCandidates("/n", "M.dll", NativeOs.Windows).First());
    }

    [Fact]
    public void On_this_machine_the_resolver_names_the_files_restore_brought_into_the_NuGet_folder()
    {
        string root = TaskSupport.Metadata("NuGetPackageRoot");
        NativeHost host = NativeHost.Current;
        string libvips = NativeResolver.LibvipsPath(
            NativeResolver.PackageNativeFolder(Path.Combine(root, "netvips.native." + host.RuntimeIdentifier, VipsRuntime.BundledLibvipsVersion), host), host);

        Assert.True(File.Exists(libvips), libvips);
        Assert.True(NativeLibrary.TryLoad(libvips, out IntPtr handle), libvips);
        NativeLibrary.Free(handle);
    }
}
