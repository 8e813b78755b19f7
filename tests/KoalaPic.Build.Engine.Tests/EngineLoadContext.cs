using System.Reflection;
using System.Runtime.Loader;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// Loads a second copy of the engine and its dependencies from the test's folder, as MSBuild's task load context does:
/// its own VipsRuntime and NetVips, on the one native libvips of the process.
/// </summary>
internal sealed class EngineLoadContext : AssemblyLoadContext
{
    private readonly AssemblyDependencyResolver resolver;

    public EngineLoadContext() : base("koalapic-engine-" + Guid.NewGuid().ToString("N"), isCollectible: false)
    {
        resolver = new AssemblyDependencyResolver(typeof(EngineLoadContext).Assembly.Location);
    }

    /// <summary>The engine assembly loaded into this context.</summary>
    public Assembly Engine => LoadFromAssemblyName(typeof(ImageConverter).Assembly.GetName());

    protected override Assembly? Load(AssemblyName name)
    {
        // The application's own assemblies (engine, NetVips, Magick.NET) get their own copies here; the framework,
        // which the resolver does not know, stays shared.
        string? path = resolver.ResolveAssemblyToPath(name);
        return path != null ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        string? path = resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path != null ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
    }
}
