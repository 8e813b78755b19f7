using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>Placeholder="thumbhash": the hash and the PNG decoded from it at build time, through the converter, the metadata and the cache.</summary>
public class ThumbHashPlaceholderTests
{
    private const string PngPrefix = "data:image/png;base64,";

    private static EncodedImage ConvertWith(byte[] source, ImageFormat format = ImageFormat.Webp, int? width = null) =>
        ImageConverter.ConvertWithPlaceholder(source, new ConversionOptions(format, ConversionOptions.DefaultQuality, width, null), PlaceholderKind.ThumbHash);

    private static Image DecodeDataUri(string? uri)
    {
        Assert.NotNull(uri);
        Assert.StartsWith(PngPrefix, uri);
        byte[] png = System.Convert.FromBase64String(uri!.Substring(PngPrefix.Length));
        Assert.Equal("VipsForeignLoadPngBuffer", Image.FindLoadBuffer(png));
        return Image.NewFromBuffer(png, access: Enums.Access.Random, failOn: Enums.FailOn.Error);
    }

    [Theory]
    [InlineData("Landscape_1.jpg", 3)]
    [InlineData("flowers.jpeg", 3)]
    [InlineData("with-alpha.png", 4)]
    public void ARealImage_GetsAHash_AndItsDecodedPng_WithTheOutputsAspect_AndTheColour(string fixture, int bands)
    {
        EncodedImage encoded = ConvertWith(FixtureBytes(fixture), ImageFormat.Png, width: 480);

        ImagePlaceholder placeholder = encoded.Placeholder!;
        Assert.Matches("^#[0-9a-f]{6}$", placeholder.Color);
        Assert.Null(placeholder.Blur);
        byte[] hash = System.Convert.FromBase64String(placeholder.ThumbHash!);
        Assert.InRange(hash.Length, 5, 30);
        using Image decoded = DecodeDataUri(placeholder.ThumbHashDataUri);
        Assert.Equal(bands, decoded.Bands);
        Assert.Equal(ThumbHash.DecodedSide, Math.Max(decoded.Width, decoded.Height));
        double outputAspect = (double)encoded.Width / encoded.Height;
        Assert.InRange((double)decoded.Width / decoded.Height, outputAspect * 0.75, outputAspect / 0.75);

        // The data URI is the hash decoded, pixel for pixel.
        var (width, height, rgba) = ThumbHash.Decode(hash);
        Assert.Equal((width, height), (decoded.Width, decoded.Height));
        using Image withAlpha = decoded.HasAlpha() ? decoded.Copy() : decoded.Bandjoin(255);
        Assert.Equal(rgba, withAlpha.WriteToMemory<byte>());
    }

    [Fact]
    public void TheHash_FollowsTheImage_ARedLeftHalfDecodesRedOnTheLeft()
    {
        using Image red = Solid(50, 40, 230, 20, 20);
        using Image blue = Solid(50, 40, 20, 20, 230);
        using Image joined = red.Join(blue, Enums.Direction.Horizontal);

        ImagePlaceholder placeholder = ConvertWith(joined.PngsaveBuffer(), ImageFormat.Png).Placeholder!;

        var (width, height, rgba) = ThumbHash.Decode(System.Convert.FromBase64String(placeholder.ThumbHash!));
        int Pixel(int x, int y, int channel) => rgba[(y * width + x) * 4 + channel];
        Assert.Equal(32, width);
        Assert.InRange(height, 12, 20);
        Assert.True(Pixel(2, height / 2, 0) > 150 && Pixel(2, height / 2, 2) < 100, "the left edge is red");
        Assert.True(Pixel(width - 3, height / 2, 2) > 150 && Pixel(width - 3, height / 2, 0) < 100, "the right edge is blue");
        Assert.Equal(255, Pixel(0, 0, 3));
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(101, 10)]
    [InlineData(10, 101)]
    public void Encode_RefusesSizesOutside1To100(int width, int height)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ThumbHash.Encode(width, height, new byte[Math.Max(0, width * height * 4)]));
    }

    [Fact]
    public void Encode_RefusesAWrongBufferLength_AndDecodeATruncatedHash()
    {
        Assert.Throws<ArgumentException>(() => ThumbHash.Encode(10, 10, new byte[399]));
        byte[] hash = ThumbHash.Encode(10, 10, Enumerable.Range(0, 400).Select(i => (byte)(i * 7)).ToArray());
        Assert.Throws<ArgumentException>(() => ThumbHash.Decode(hash.AsSpan(0, hash.Length - 2)));
        Assert.Throws<ArgumentException>(() => ThumbHash.Decode(new byte[3]));
    }

    [Fact]
    public void OutputBytes_AreTheSameWithOrWithoutTheThumbHash()
    {
        byte[] source = FixtureBytes("flowers.jpeg");
        var options = new ConversionOptions(ImageFormat.Webp, 80, 200, null);

        Assert.Equal(ImageConverter.Convert(source, options).Bytes, ImageConverter.ConvertWithPlaceholder(source, options, PlaceholderKind.ThumbHash).Bytes);
    }

    [Theory]
    [InlineData("thumbhash")]
    [InlineData(" ThumbHash ")]
    [InlineData("THUMBHASH")]
    public void Metadata_AcceptsThumbhash(string value)
    {
        var diagnostics = new List<Diagnostic>();
        ImageRequest? request = ImageRequest.TryCreate("img/a.png", "/p/img/a.png", "/p", name => name == "Placeholder" ? value : "", "/p/p.csproj", diagnostics);

        Assert.Empty(diagnostics);
        Assert.Equal(PlaceholderKind.ThumbHash, request!.Placeholder);
    }

    [Fact]
    public void Metadata_InvalidValue_ListsThumbhash()
    {
        var diagnostics = new List<Diagnostic>();
        ImageRequest.TryCreate("img/a.png", "/p/img/a.png", "/p", name => name == "Placeholder" ? "thumb" : "", "/p/p.csproj", diagnostics);

        Assert.Equal(DiagnosticCodes.InvalidPlaceholder, Assert.Single(diagnostics).Code);
        Assert.Contains("thumbhash", diagnostics[0].Message);
    }

    [Fact]
    public void For_GivesEachKindOnlyItsFields_AndSatisfiesNeedsTheHashAndItsImage()
    {
        var full = new ImagePlaceholder { Color = "#8a7f6e", Blur = "data:image/webp;base64,AAAA", ThumbHash = "1QcSHQRnh493V4dIh4eXh1h4kJUI", ThumbHashDataUri = PngPrefix + "AAAA" };

        ImagePlaceholder thumb = ImagePlaceholder.For(full, PlaceholderKind.ThumbHash)!;
        ImagePlaceholder blur = ImagePlaceholder.For(full, PlaceholderKind.Blur)!;
        ImagePlaceholder colour = ImagePlaceholder.For(full, PlaceholderKind.Color)!;

        Assert.Equal(full with { Blur = null }, thumb);
        Assert.Equal(full with { ThumbHash = null, ThumbHashDataUri = null }, blur);
        Assert.Equal(new ImagePlaceholder { Color = "#8a7f6e" }, colour);
        Assert.False(ImagePlaceholder.Satisfies(blur, PlaceholderKind.ThumbHash));
        Assert.False(ImagePlaceholder.Satisfies(full with { ThumbHashDataUri = null }, PlaceholderKind.ThumbHash));
        Assert.False(ImagePlaceholder.Satisfies(thumb, PlaceholderKind.Blur));
        Assert.True(ImagePlaceholder.Satisfies(thumb, PlaceholderKind.ThumbHash));
    }

    [Fact]
    public void CacheEntry_RoundTripsTheHashAndItsImage_AndAColourOnlyEntryDoesNotGainOne()
    {
        using var folder = new TempFolder();
        string path = folder.Combine("ab", "abcdef.webp");
        byte[] image = Enumerable.Range(0, 3000).Select(i => (byte)(i * 13)).ToArray();
        var placeholder = new ImagePlaceholder { Color = "#8a7f6e", ThumbHash = "1QcSHQRnh493V4dIh4eXh1h4kJUI", ThumbHashDataUri = PngPrefix + "iVBORw0KGgo=" };

        CacheEntry.Write(path, "abcdef", image, new OutputFacts(40, 30, null) { Placeholder = placeholder });
        Assert.Equal(image, CacheEntry.TryRead(path, "abcdef", out OutputFacts facts));
        Assert.Equal(placeholder, facts.Placeholder);

        CacheEntry.Write(path, "abcdef", image, new OutputFacts(40, 30, null) { Placeholder = new ImagePlaceholder { Color = "#8a7f6e" } });
        Assert.Equal(image, CacheEntry.TryRead(path, "abcdef", out facts));
        Assert.Equal(new ImagePlaceholder { Color = "#8a7f6e" }, facts.Placeholder);
        Assert.False(ImagePlaceholder.Satisfies(facts.Placeholder, PlaceholderKind.ThumbHash));
    }

    [Fact]
    public void UpToDateRun_AndTheCache_GiveTheSameThumbHash_WithoutConverting()
    {
        using var cache = new TempFolder();
        using var a = new BatchWorkspace(cache.Path);
        using var b = new BatchWorkspace(cache.Path);
        foreach (BatchWorkspace ws in new[] { a, b })
        {
            ws.WriteSource("img/photo.jpg", FixtureBytes("flowers.jpeg"));
        }

        BatchResult colourFirst = a.Run(new[] { a.Request("img/photo.jpg", ("Format", "webp"), ("Width", "160"), ("Placeholder", "color")) });
        BatchResult first = a.Run(new[] { a.Request("img/photo.jpg", ("Format", "webp"), ("Width", "160"), ("Placeholder", "thumbhash")) });
        BatchResult again = a.Run(new[] { a.Request("img/photo.jpg", ("Format", "webp"), ("Width", "160"), ("Placeholder", "thumbhash")) });
        BatchResult other = b.Run(new[] { b.Request("img/photo.jpg", ("Format", "webp"), ("Width", "160"), ("Placeholder", "thumbhash")) });

        Assert.Null(colourFirst.Items[0].Placeholder!.ThumbHash);
        Assert.Equal(ItemOutcome.Converted, first.Items[0].Outcome);
        Assert.NotNull(first.Items[0].Placeholder!.ThumbHash);
        Assert.Equal(ItemOutcome.UpToDate, again.Items[0].Outcome);
        Assert.Equal(ItemOutcome.FromCache, other.Items[0].Outcome);
        Assert.Equal(first.Items[0].Placeholder, again.Items[0].Placeholder);
        Assert.Equal(first.Items[0].Placeholder, other.Items[0].Placeholder);
    }
}
