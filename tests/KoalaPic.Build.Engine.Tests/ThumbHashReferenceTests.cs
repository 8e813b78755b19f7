using System.Security.Cryptography;
using System.Text.Json;
using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// The engine's ThumbHash against the reference implementation (npm package thumbhash), bit for bit. Each case
/// converts a corpus image with Placeholder="thumbhash" to PNG, reads the PNG back (lossless: the pixels the
/// placeholder was made of) and takes the encoder's input from it as the engine does. Those RGBA bytes are exported to
/// <see cref="ExportFolder"/>; bench/thumbhash/reference.mjs encodes and decodes them with the reference and wrote
/// ThumbHashReference.json, the expected values here. Node is not needed to run the tests.
/// </summary>
public class ThumbHashReferenceTests
{
    private static readonly string ExportFolder = Path.Combine(AppContext.BaseDirectory, "thumbhash-inputs");

    private static readonly string ExpectedFile = Path.Combine(RepositoryRoot, "tests", "KoalaPic.Build.Engine.Tests", "ThumbHashReference.json");

    private static string Regenerate =>
        $"If the engine's input pixels changed on purpose, regenerate the expected values: cd bench/thumbhash && npm ci && node reference.mjs {ExportFolder} > {ExpectedFile}";

    /// <summary>The cases: a name, a corpus image and the conversion that makes the pixels.</summary>
    public static TheoryData<string> Cases => new(CaseOptions.Keys);

    private static readonly Dictionary<string, (string Fixture, ConversionOptions Options)> CaseOptions = new()
    {
        ["photo-landscape"] = ("Landscape_1.jpg", Truecolour(480, null)),
        ["photo-flowers"] = ("flowers.jpeg", Truecolour(320, null)),
        ["alpha-png"] = ("with-alpha.png", Truecolour(null, null)),
        ["alpha-webp"] = ("5_webp_a.webp", Truecolour(200, null)),
        // 1200×60: the encoder gets 100×5, the hash keeps 7 luminance terms across and 1 down.
        ["very-wide"] = ("2569067123_aca715a2ee_o.jpg", Truecolour(1200, 60) with { Fit = FitMode.Cover }),
        ["very-tall"] = ("concert.jpg", Truecolour(40, 400) with { Fit = FitMode.Cover }),
    };

    /// <summary>PNG at quality 100 is truecolour; below it, PNG is palette-quantised and would not give back the placeholder's pixels.</summary>
    private static ConversionOptions Truecolour(int? width, int? height) => new(ImageFormat.Png, 100, width, height);

    private sealed record ReferenceCase(string Name, int Width, int Height, string RgbaSha256, string Hash, int DecodedWidth, int DecodedHeight, string DecodedRgba);

    private static readonly Lazy<Dictionary<string, ReferenceCase>> Expected = new(() =>
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(ExpectedFile));
        return document.RootElement.GetProperty("cases").EnumerateArray().Select(c => new ReferenceCase(
            c.GetProperty("name").GetString()!, c.GetProperty("width").GetInt32(), c.GetProperty("height").GetInt32(),
            c.GetProperty("rgba_sha256").GetString()!, c.GetProperty("hash").GetString()!,
            c.GetProperty("decoded_width").GetInt32(), c.GetProperty("decoded_height").GetInt32(), c.GetProperty("decoded_rgba").GetString()!))
            .ToDictionary(c => c.Name);
    });

    /// <summary>Converts the case, exports the encoder's input and returns it with the placeholder the conversion made.</summary>
    private static (int Width, int Height, byte[] Rgba, ImagePlaceholder Placeholder) EngineInput(string name)
    {
        var (fixture, options) = CaseOptions[name];
        EncodedImage encoded = ImageConverter.ConvertWithPlaceholder(FixtureBytes(fixture), options, PlaceholderKind.ThumbHash);
        using Image output = Image.NewFromBuffer(encoded.Bytes, access: Enums.Access.Random);
        var (width, height, rgba) = Placeholders.ThumbHashInput(output);
        Directory.CreateDirectory(ExportFolder);
        File.WriteAllBytes(Path.Combine(ExportFolder, $"{name}.{width}x{height}.rgba"), rgba);
        Assert.NotNull(encoded.Placeholder);
        return (width, height, rgba, encoded.Placeholder!);
    }

    [Fact]
    public void TheExpectedValues_CoverEveryCase_AlphaAndAVeryWideImage()
    {
        Assert.Equal(CaseOptions.Keys.OrderBy(k => k), Expected.Value.Keys.OrderBy(k => k));
        Assert.Contains(Expected.Value.Values, c => c.Width >= 10 * c.Height);
        // Byte 2's top bit is the hash's alpha flag.
        Assert.Contains(Expected.Value.Values, c => (System.Convert.FromBase64String(c.Hash)[2] & 0x80) != 0);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encoder_GivesTheReferenceHash_BitForBit(string name)
    {
        var (width, height, rgba, placeholder) = EngineInput(name);
        ReferenceCase expected = Expected.Value[name];

        Assert.True(
            (expected.Width, expected.Height, expected.RgbaSha256) == (width, height, System.Convert.ToHexString(SHA256.HashData(rgba)).ToLowerInvariant()),
            $"{name}: the encoder's input is not the one the expected hash was made from. {Regenerate}");
        Assert.Equal(expected.Hash, System.Convert.ToBase64String(ThumbHash.Encode(width, height, rgba)));
        Assert.Equal(expected.Hash, placeholder.ThumbHash);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decoder_GivesTheReferenceImage(string name)
    {
        ReferenceCase expected = Expected.Value[name];
        byte[] reference = System.Convert.FromBase64String(expected.DecodedRgba);

        var (width, height, rgba) = ThumbHash.Decode(System.Convert.FromBase64String(expected.Hash));

        Assert.Equal((expected.DecodedWidth, expected.DecodedHeight), (width, height));
        // Exactly: the decoder computes with JavaScript's cosine and truncates as a Uint8Array does.
        Assert.Equal(reference, rgba);
    }
}
