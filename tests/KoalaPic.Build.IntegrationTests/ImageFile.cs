using NetVips;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>What an output file really is, read by libvips from its bytes, not from its name.</summary>
public sealed record ImageFile(string Loader, int Width, int Height, int Bands)
{
    public static ImageFile Read(string path) => FromBytes(File.ReadAllBytes(path));

    /// <summary>An image received over HTTP, as its bytes.</summary>
    public static ImageFile FromBytes(byte[] bytes)
    {
        KoalaPic.Build.Engine.VipsRuntime.EnsureInitialized();
        string loader = Image.FindLoadBuffer(bytes) ?? "(none)";
        using Image image = Image.NewFromBuffer(bytes);
        return new ImageFile(loader, image.Width, image.Height, image.Bands);
    }

    /// <summary>Width and height of a source image after EXIF orientation.</summary>
    public static (int Width, int Height) UprightSize(string path)
    {
        KoalaPic.Build.Engine.VipsRuntime.EnsureInitialized();
        using Image image = Image.NewFromBuffer(File.ReadAllBytes(path));
        using Image upright = image.Autorot();
        return (upright.Width, upright.Height);
    }
}
