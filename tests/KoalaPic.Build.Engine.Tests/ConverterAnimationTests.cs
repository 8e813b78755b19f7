using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>Animated GIF and WebP inputs keep frames, delays and loop count where the output can animate.</summary>
public class ConverterAnimationTests
{
    private static Image LoadAll(byte[] bytes) => Image.NewFromBuffer(bytes, "[n=-1]", access: Enums.Access.Random).CopyMemory();

    private static int Pages(Image image) => image.Contains("n-pages") ? (int)image.Get("n-pages") : 1;

    private static int[] Delays(Image image) => image.Contains("delay") ? (int[])image.Get("delay") : Array.Empty<int>();

    /// <summary>The frame on screen at <paramref name="time"/> ms, from the page delays.</summary>
    private static Image FrameAt(Image animation, int time)
    {
        int[] delays = Delays(animation);
        int h = animation.PageHeight;
        int start = 0;
        for (int i = 0; i < delays.Length; i++)
        {
            if (time < start + delays[i])
            {
                return animation.Crop(0, i * h, animation.Width, h);
            }

            start += delays[i];
        }

        return animation.Crop(0, (delays.Length - 1) * h, animation.Width, h);
    }

    [Theory]
    [InlineData("animated-loop-3.gif", ImageFormat.Webp)]
    [InlineData("animated-loop-3.gif", ImageFormat.Gif)]
    [InlineData("rotating-squares.gif", ImageFormat.Webp)]
    [InlineData("rotating-squares.gif", ImageFormat.Gif)]
    [InlineData("animated-loop-3.webp", ImageFormat.Gif)]
    [InlineData("animated-loop-3.webp", ImageFormat.Webp)]
    public void AnimatedInput_ToAnimatedFormat_PlaysTheSameFramesTimingAndLoop(string file, ImageFormat format)
    {
        byte[] source = FixtureBytes(file);
        using Image original = LoadAll(source);
        int frames = Pages(original);
        Assert.True(frames > 1, "the fixture is animated");

        EncodedImage encoded = Convert(source, format, quality: 100);

        Assert.True(HasMagic(encoded.Bytes, format));
        Assert.Equal(frames, encoded.Frames);
        using Image output = LoadAll(encoded.Bytes);
        Assert.Equal((original.Width, original.PageHeight), (output.Width, output.PageHeight));
        Assert.Equal(Delays(original).Sum(), Delays(output).Sum());
        Assert.Equal(original.Contains("loop") ? (int)original.Get("loop") : 0, output.Contains("loop") ? (int)output.Get("loop") : 0);

        // Encoders may merge identical consecutive frames into one longer frame (rotating-squares.gif repeats each
        // picture several times); what matters is that every original frame is on screen at its time.
        int start = 0;
        foreach (int delay in Delays(original))
        {
            using Image expected = FrameAt(original, start);
            using Image actual = FrameAt(output, start);
            Assert.True(MeanAbsDiff(Rgb(expected), Rgb(actual)) < 4, $"frame at {start} ms differs");
            start += delay;
        }
    }

    [Theory]
    [InlineData("animated-loop-3.gif", ImageFormat.Webp)]
    [InlineData("animated-loop-3.webp", ImageFormat.Gif)]
    public void AnimatedInput_Resized_ResizesEveryFrame(string file, ImageFormat format)
    {
        byte[] source = FixtureBytes(file);
        int frames = Pages(LoadAll(source));

        EncodedImage encoded = Convert(source, format, width: 64);

        using Image output = LoadAll(encoded.Bytes);
        Assert.Equal(frames, Pages(output));
        Assert.Equal((64, encoded.Height), (output.Width, output.PageHeight));
        Assert.Equal(output.PageHeight * frames, output.Height);
    }

    [Fact]
    public void AnimatedInput_Frames_AreDifferentPictures()
    {
        // Not the first frame repeated: at least two output frames differ.
        EncodedImage encoded = Convert(FixtureBytes("rotating-squares.gif"), ImageFormat.Webp, width: 80, quality: 100);

        using Image output = LoadAll(encoded.Bytes);
        int h = output.PageHeight;
        using Image first = output.Crop(0, 0, output.Width, h);
        using Image second = output.Crop(0, h, output.Width, h);
        Assert.True(MeanAbsDiff(first, second) > 1);
    }

    [Fact]
    public void AnimatedInput_CoverCrop_CropsEveryFrame()
    {
        byte[] source = FixtureBytes("animated-loop-3.gif"); // 370x285
        var options = new ConversionOptions(ImageFormat.Webp, 80, 100, 100) { Fit = FitMode.Cover, Position = CropPosition.Attention };

        EncodedImage encoded = ImageConverter.Convert(source, options);

        using Image output = LoadAll(encoded.Bytes);
        Assert.Equal((100, 100), (output.Width, output.PageHeight));
        Assert.Equal(Pages(LoadAll(source)), Pages(output));

        // Every frame is the centre crop (attention is not used for animations, so the crop cannot jump).
        var centre = new ConversionOptions(ImageFormat.Webp, 80, 100, 100) { Fit = FitMode.Cover };
        using Image centred = LoadAll(ImageConverter.Convert(source, centre).Bytes);
        Assert.True(MeanAbsDiff(output, centred) < 1);
    }

    [Theory]
    [InlineData(ImageFormat.Png)]
    [InlineData(ImageFormat.Jpeg)]
    [InlineData(ImageFormat.Avif)]
    public void AnimatedInput_ToStillFormat_TakesTheFirstFrame(ImageFormat format)
    {
        byte[] source = FixtureBytes("animated-loop-3.gif");
        using Image firstFrame = Image.NewFromBuffer(source).CopyMemory();

        EncodedImage encoded = Convert(source, format, quality: 100);

        using Image decoded = DecodeAs(encoded, format);
        Assert.Equal(1, encoded.Frames);
        Assert.Equal((firstFrame.Width, firstFrame.Height), (decoded.Width, decoded.Height));
    }

    [Fact]
    public void AnimatedInput_FramesTimesSizeOverLimit_IsRefusedBeforeDecoding()
    {
        byte[] source = FixtureBytes("animated-loop-3.gif"); // 370x285, several frames
        using Image original = LoadAll(source);
        long oneFrame = 370L * 285;

        var ex = Assert.Throws<ImageConversionException>(() => Convert(source, ImageFormat.Webp, maxPixels: oneFrame * 2));

        Assert.Equal(DiagnosticCodes.TooManyPixels, ex.Code);
        Assert.Contains($"x {Pages(original)} frames", ex.Message);
        // The still output needs one frame only, which is within the limit.
        Assert.Equal(1, Convert(source, ImageFormat.Png, maxPixels: oneFrame * 2).Frames);
    }
}
