using System.Reflection;
using System.Runtime.Loader;
using KoalaPic.Build.Engine;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// ImageMagick is loaded only when an item needs it. Other tests in this process use it, so the engine is loaded afresh
/// into its own load context, as MSBuild loads the task: there a webp conversion must leave no Magick.NET assembly
/// behind, while a bmp encode in the same context loads it (which shows the check can see it).
/// Not in parallel with other tests: the second engine's VipsRuntime starts the one native libvips again, and its
/// deny-all-then-allow of loaders briefly blocks every loader for the tests running meanwhile (seen once in CI:
/// "jpegload_buffer: operation is blocked" in another class).
/// </summary>
[Collection(FreshEngineCollection.Name)]
public class MagickLoadingTests
{
    [Fact]
    public void WebpConversion_InAFreshLoadContext_DoesNotLoadImageMagick_ButABmpEncodeDoes()
    {
        var context = new EngineLoadContext(typeof(MagickLoadingTests).Assembly.Location);
        Assembly engine = context.LoadFromAssemblyName(typeof(ImageConverter).Assembly.GetName());
        Assert.NotSame(typeof(ImageConverter).Assembly, engine);

        byte[] webp = ConvertToWebp(engine, FixtureBytes("2569067123_aca715a2ee_o.jpg"));

        Assert.Equal("WEBP", System.Text.Encoding.ASCII.GetString(webp, 8, 4));
        Assert.Empty(MagickAssemblies(context));
        Assert.False(MagickRuntimeStarted(engine));

        EncodeBmp(engine);

        Assert.Contains(Koalapic.MagickNetPackage, MagickAssemblies(context));
        Assert.True(MagickRuntimeStarted(engine));
    }

    [Fact]
    public void MagickNetVersionConstant_IsThePackageInUse()
    {
        Assert.Equal(MagickCodec.MagickNetVersion + ".0", typeof(ImageMagick.MagickImage).Assembly.GetName().Version!.ToString());
    }

    private static byte[] ConvertToWebp(Assembly engine, byte[] source)
    {
        Type options = engine.GetType(typeof(ConversionOptions).FullName!, throwOnError: true)!;
        Type format = engine.GetType(typeof(ImageFormat).FullName!, throwOnError: true)!;
        object request = Activator.CreateInstance(options, Enum.Parse(format, nameof(ImageFormat.Webp)), 80, 200, null)!;
        MethodInfo convert = engine.GetType(typeof(ImageConverter).FullName!, throwOnError: true)!.GetMethod(nameof(ImageConverter.Convert))!;
        object encoded = convert.Invoke(null, new object?[] { source, request, ImageConverter.DefaultMaxPixels, CancellationToken.None })!;
        return (byte[])encoded.GetType().GetProperty(nameof(EncodedImage.Bytes))!.GetValue(encoded)!;
    }

    private static void EncodeBmp(Assembly engine)
    {
        Type codec = engine.GetType("KoalaPic.Build.Engine.MagickCodec", throwOnError: true)!;
        MethodInfo encodeBmp = codec.GetMethod("EncodeBmp", BindingFlags.Public | BindingFlags.Static)!;
        Type imageType = encodeBmp.GetParameters()[0].ParameterType;
        object image = imageType.GetMethod("Black", new[] { typeof(int), typeof(int), typeof(int?) })!.Invoke(null, new object?[] { 4, 4, 3 })!;
        object castImage = imageType.GetMethod("Cast")!.Invoke(image, new object?[] { Enum.Parse(imageType.Assembly.GetType("NetVips.Enums+BandFormat")!, "Uchar"), null })!;
        var bmp = (byte[])encodeBmp.Invoke(null, new[] { castImage })!;
        Assert.Equal((byte)'B', bmp[0]);
    }

    private static List<string> MagickAssemblies(AssemblyLoadContext context) =>
        context.Assemblies.Select(a => a.GetName().Name!).Where(n => n.StartsWith("Magick.NET", StringComparison.Ordinal)).ToList();

    private static bool MagickRuntimeStarted(Assembly engine) =>
        (bool)engine.GetType("KoalaPic.Build.Engine.MagickRuntime", throwOnError: true)!
            .GetProperty("IsInitialized", BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null)!;

    /// <summary>Loads the engine and its dependencies from the test's folder, as MSBuild's task load context does.</summary>
    private sealed class EngineLoadContext : AssemblyLoadContext
    {
        private readonly AssemblyDependencyResolver resolver;

        public EngineLoadContext(string mainAssembly) : base("koalapic-engine-" + Guid.NewGuid().ToString("N"), isCollectible: false)
        {
            resolver = new AssemblyDependencyResolver(mainAssembly);
        }

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
}

/// <summary>Tests that start a second copy of the engine in the process: they run alone (see <see cref="MagickLoadingTests"/>).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FreshEngineCollection
{
    public const string Name = "A fresh engine in its own load context";
}
