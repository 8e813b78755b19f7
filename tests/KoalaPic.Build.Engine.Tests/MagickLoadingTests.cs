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
/// In parallel with other tests: the second engine's VipsRuntime applies its loader allow-list to the one native
/// libvips again, which never blocks an allowed loader for a conversion running meanwhile (LoaderAllowListTests).
/// </summary>
public class MagickLoadingTests
{
    [Fact]
    public void WebpConversion_InAFreshLoadContext_DoesNotLoadImageMagick_ButABmpEncodeDoes()
    {
        var context = new EngineLoadContext();
        Assembly engine = context.Engine;
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
}
