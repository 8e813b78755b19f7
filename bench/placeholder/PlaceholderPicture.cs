using KoalaPic.Build.Engine;
using NetVips;

/// <summary>
/// docs/placeholders.png: one photo's three placeholders as a page shows them, scaled up to the photo's size with
/// smooth (bilinear) scaling as a browser's <c>background-size:cover</c> does, side by side, and the photo itself:
/// color, blur, thumbhash, photo.
/// </summary>
internal static class PlaceholderPicture
{
    private const int PanelWidth = 240;
    private const int Gap = 6;

    public static void Draw(string corpus, string imageName, string outputPath)
    {
        byte[] source = File.ReadAllBytes(Path.Combine(corpus, imageName));
        var options = new ConversionOptions(ImageFormat.Png, 100, PanelWidth, null);
        EncodedImage photo = ImageConverter.ConvertWithPlaceholder(source, options, PlaceholderKind.Blur);
        ImagePlaceholder blur = photo.Placeholder!;
        ImagePlaceholder thumbHash = ImageConverter.ConvertWithPlaceholder(source, options, PlaceholderKind.ThumbHash).Placeholder!;
        int width = photo.Width, height = photo.Height;

        using Image colour = Solid(width, height, blur.Color);
        using Image blurred = Scaled(DataUri(blur.Blur!), width, height);
        using Image hashed = Scaled(DataUri(thumbHash.ThumbHashDataUri!), width, height);
        using Image original = Image.NewFromBuffer(photo.Bytes);
        Image[] panels = { colour, blurred, hashed, original };

        using Image background = Solid(panels.Length * width + (panels.Length + 1) * Gap, height + 2 * Gap, "#ffffff");
        Image sheet = background;
        for (int i = 0; i < panels.Length; i++)
        {
            using Image rgb = panels[i].HasAlpha() ? panels[i].Flatten(new double[] { 255, 255, 255 }) : panels[i].Copy();
            Image next = sheet.Insert(rgb.ExtractBand(0, n: 3), Gap + i * (width + Gap), Gap);
            if (!ReferenceEquals(sheet, background))
            {
                sheet.Dispose();
            }

            sheet = next;
        }

        // A photo compresses poorly as truecolour PNG; a 256-colour palette keeps the picture small enough for the docs.
        sheet.Pngsave(outputPath, compression: 9, palette: true, q: 90, keep: Enums.ForeignKeep.None);
        sheet.Dispose();
        Console.WriteLine($"{outputPath}: {new FileInfo(outputPath).Length} bytes; color {blur.Color}, blur {blur.Blur!.Length} chars, thumbhash {thumbHash.ThumbHash} ({thumbHash.ThumbHash!.Length} chars) + data URI {thumbHash.ThumbHashDataUri!.Length} chars");
    }

    private static Image DataUri(string uri) =>
        Image.NewFromBuffer(Convert.FromBase64String(uri.Substring(uri.IndexOf(',') + 1)), access: Enums.Access.Random);

    private static Image Scaled(Image small, int width, int height)
    {
        using (small)
        {
            using Image rgb = small.HasAlpha() ? small.Flatten(new double[] { 255, 255, 255 }) : small.Copy();
            return rgb.Resize((double)width / rgb.Width, vscale: (double)height / rgb.Height, kernel: Enums.Kernel.Linear);
        }
    }

    private static Image Solid(int width, int height, string colour)
    {
        double Channel(int i) => Convert.ToInt32(colour.Substring(1 + 2 * i, 2), 16);
        using Image black = Image.Black(width, height);
        return black.NewFromImage(Channel(0), Channel(1), Channel(2)).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
    }
}
