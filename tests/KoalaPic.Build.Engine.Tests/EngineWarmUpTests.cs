using KoalaPic.Build.Engine;
using Xunit;

namespace KoalaPic.Build.Engine.Tests;

public sealed class EngineWarmUpTests
{
    [Fact]
    public void Run_ConvertsItsSamplesToEveryLibvipsFormat_AndSkipsTheOthers()
    {
        // ico/pdf/heic/svg are skipped (ImageMagick and libheif are loaded only for items that need them).
        Assert.True(EngineWarmUp.Run(new[] { ImageFormat.Webp, ImageFormat.Avif, ImageFormat.Jpeg, ImageFormat.Png, ImageFormat.Gif, ImageFormat.Tiff, ImageFormat.Ico, ImageFormat.Heic }));
    }

    [Fact]
    public void Run_WithNoFormat_StillStartsTheEngine()
    {
        Assert.True(EngineWarmUp.Run(Array.Empty<ImageFormat>()));
        Assert.Equal(VipsRuntime.BundledLibvipsVersion, VipsRuntime.LibvipsVersion);
    }
}
