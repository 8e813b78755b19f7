using System.Text;
using ImageMagick;
using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// ImageMagick's security policy is in force, through KoalaPic's entry points and through Magick.NET itself once
/// <see cref="MagickRuntime"/> has started it: scripts (MVG, MSL), file-reading pseudo-formats (text:, @file, label:@),
/// SVG with references to local files, and readers of anything but HEIC all refuse, and no secret file's content ends
/// up in an output or an error message.
/// </summary>
public sealed class MagickSecurityTests : IDisposable
{
    private readonly TempFolder folder = new();
    private readonly string secret;
    private readonly string secretText;
    private readonly string secretPng;

    public MagickSecurityTests()
    {
        MagickRuntime.EnsureInitialized();
        secretText = "KOALAPIC-SECRET-" + Guid.NewGuid().ToString("N");
        secret = folder.Combine("secret.txt");
        File.WriteAllText(secret, secretText + "\n");
        secretPng = folder.Combine("secret.png");
        File.WriteAllBytes(secretPng, FixtureBytes("with-alpha.png"));
    }

    public void Dispose() => folder.Dispose();

    private string Output => folder.Combine("written-by-script.txt");

    private byte[] Payload(string kind) => Encoding.UTF8.GetBytes(kind switch
    {
        // Draws the secret text file as text and composites the secret image from disk.
        "mvg" => $"push graphic-context\nviewbox 0 0 640 480\ntext 10,10 '@{secret}'\nimage over 0,0 0,0 '{secretPng}'\npop graphic-context\n",
        // Reads the secret and writes it elsewhere.
        "msl" => $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<image>\n<read filename=\"text:{secret}\" />\n<write filename=\"{Output}\" />\n</image>\n",
        "svg" => $"<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"64\" height=\"64\"><image xlink:href=\"file://{secretPng}\" width=\"64\" height=\"64\"/><text x=\"0\" y=\"20\">&xxe;</text></svg>",
        "svg-entity" => $"<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM \"file://{secret}\">]><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\"><text x=\"0\" y=\"20\">&xxe;</text></svg>",
        "text-path" => $"text:{secret}",
        "at-path" => $"@{secret}",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    });

    public static TheoryData<string> Payloads => new() { "mvg", "msl", "svg", "svg-entity", "text-path", "at-path" };

    [Theory]
    [MemberData(nameof(Payloads))]
    public void DecodeHeic_ScriptOrFileReference_IsRefusedAndReadsNothing(string kind)
    {
        var error = Assert.Throws<ImageConversionException>(() => MagickCodec.DecodeHeic(Payload(kind), ImageConverter.DefaultMaxPixels));

        Assert.Equal(DiagnosticCodes.CannotDecode, error.Code);
        AssertNothingLeaked(error);
    }

    /// <summary>The same payloads given to ImageMagick's own decoders: the policy refuses each coder.</summary>
    [Theory]
    [InlineData("mvg", MagickFormat.Mvg)]
    [InlineData("msl", MagickFormat.Msl)]
    [InlineData("svg", MagickFormat.Svg)]
    [InlineData("svg", MagickFormat.Rsvg)]
    [InlineData("svg", MagickFormat.Msvg)]
    [InlineData("svg-entity", MagickFormat.Svg)]
    [InlineData("text-path", MagickFormat.Text)]
    [InlineData("mvg", MagickFormat.Heic)]
    public void MagickNet_PayloadWithItsDecoderNamed_IsRefused(string kind, MagickFormat format)
    {
        byte[] payload = Payload(kind);

        var error = Assert.ThrowsAny<MagickException>(() => new MagickImage(payload, new MagickReadSettings { Format = format }));

        AssertNothingLeaked(error);
    }

    /// <summary>Content sniffing picks MVG, MSL or SVG from these bytes; every one of those coders is refused.</summary>
    [Theory]
    [MemberData(nameof(Payloads))]
    public void MagickNet_PayloadWithoutAFormat_IsRefused(string kind)
    {
        byte[] payload = Payload(kind);

        var error = Assert.ThrowsAny<MagickException>(() => new MagickImage(payload));

        AssertNothingLeaked(error);
    }

    /// <summary>File names with ImageMagick's pseudo-format prefixes, each of which would read a local file.</summary>
    [Theory]
    [InlineData("text:{secret}")]
    [InlineData("txt:{secret}")]
    [InlineData("@{secret}")]
    [InlineData("label:@{secret}")]
    [InlineData("caption:@{secret}")]
    [InlineData("ephemeral:{png}")]
    [InlineData("mpr:{png}")]
    [InlineData("{png}")]
    [InlineData("png:{png}")]
    [InlineData("msl:{msl}")]
    [InlineData("mvg:{mvg}")]
    [InlineData("{mvg}")]
    [InlineData("svg:{svg}")]
    [InlineData("inline:data:image/png;base64,{base64}")]
    [InlineData("http://127.0.0.1:9/secret.png")]
    [InlineData("url:file://{png}")]
    [InlineData("xc:red")]
    public void MagickNet_PseudoFormatFileName_IsRefused(string template)
    {
        string mslPath = folder.Combine("payload.msl");
        string mvgPath = folder.Combine("payload.mvg");
        string svgPath = folder.Combine("payload.svg");
        File.WriteAllBytes(mslPath, Payload("msl"));
        File.WriteAllBytes(mvgPath, Payload("mvg"));
        File.WriteAllBytes(svgPath, Payload("svg"));
        string name = template
            .Replace("{secret}", secret)
            .Replace("{png}", secretPng)
            .Replace("{msl}", mslPath)
            .Replace("{mvg}", mvgPath)
            .Replace("{svg}", svgPath)
            .Replace("{base64}", System.Convert.ToBase64String(File.ReadAllBytes(secretPng)));

        var error = Assert.ThrowsAny<MagickException>(() => new MagickImage(name));

        AssertNothingLeaked(error);
    }

    [Fact]
    public void MagickNet_HeicDecoderNamed_RefusesAPng()
    {
        byte[] png = FixtureBytes("with-alpha.png");

        Assert.ThrowsAny<MagickException>(() => new MagickImage(png, new MagickReadSettings { Format = MagickFormat.Heic }));
    }

    [Theory]
    [InlineData(MagickFormat.Png)]
    [InlineData(MagickFormat.Gif)]
    [InlineData(MagickFormat.Tiff)]
    [InlineData(MagickFormat.Text)]
    [InlineData(MagickFormat.Mvg)]
    [InlineData(MagickFormat.Svg)]
    // (JPEG and PNG32 writing stay allowed: the PDF and ICO coders write their streams through them.)
    public void MagickNet_WritingAFormatKoalaPicDoesNotUse_IsRefused(MagickFormat format)
    {
        using var image = new MagickImage();
        image.ReadPixels(new byte[] { 1, 2, 3 }, new PixelReadSettings(1, 1, StorageType.Char, PixelMapping.RGB));

        Assert.ThrowsAny<MagickException>(() => image.ToByteArray(format));
    }

    /// <summary>ImageMagick's own evaluation of the policy (Linux builds of Magick.Native export it).</summary>
    [SkippableFact]
    public void Policy_IsPinnedLastAndImageMagickEvaluatesItAsWritten()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "Only the Linux builds of Magick.Native export MagickCore's policy functions.");
        Assert.True(MagickPolicyPins.Available);

        foreach (var (domain, rights, name) in MagickPolicyPins.Allowed)
        {
            Assert.True(MagickPolicyPins.IsAuthorized(domain, rights, name), $"{domain} {name} {rights} should be allowed");
        }

        foreach (var (domain, rights, name) in MagickPolicyPins.Refused.Concat(new[]
                 {
                     (MagickPolicyPins.Domain.Coder, MagickPolicyPins.Rights.Read, "HEIC-NOT"),
                     (MagickPolicyPins.Domain.Coder, MagickPolicyPins.Rights.Write, "GIF"),
                     (MagickPolicyPins.Domain.Coder, MagickPolicyPins.Rights.Read, "AVIF"),
                     (MagickPolicyPins.Domain.Coder, MagickPolicyPins.Rights.Read, "heic"),
                     (MagickPolicyPins.Domain.Filter, MagickPolicyPins.Rights.Read, "analyze"),
                     (MagickPolicyPins.Domain.Path, MagickPolicyPins.Rights.Read, "@" + secret),
                     (MagickPolicyPins.Domain.Path, MagickPolicyPins.Rights.Read, "|cat " + secret),
                 }))
        {
            Assert.False(MagickPolicyPins.IsAuthorized(domain, rights, name), $"{domain} {name} {rights} should be refused");
        }
    }

    [Fact]
    public void ResourceLimits_AreKoalaPicsCeilings()
    {
        Assert.Equal(MagickRuntime.MaxWidth, ResourceLimits.Width);
        Assert.Equal(MagickRuntime.MaxHeight, ResourceLimits.Height);
        Assert.Equal(MagickRuntime.MaxArea, ResourceLimits.Area);
        Assert.Equal(MagickRuntime.MaxMemory, ResourceLimits.Memory);
        Assert.Equal(MagickRuntime.MaxListLength, ResourceLimits.ListLength);
        Assert.Equal(MagickRuntime.MaxSecondsPerImage, ResourceLimits.Time);
        Assert.Equal(0ul, ResourceLimits.Disk);
    }

    [Fact]
    public void ConfigurationFolder_HoldsThePolicyNoDelegatesAndIsPrivate()
    {
        string configuration = MagickRuntime.ConfigurationFolder!;
        string temporary = MagickRuntime.TemporaryFolder!;

        Assert.Equal(MagickRuntime.PolicyXml(temporary), File.ReadAllText(Path.Combine(configuration, "policy.xml")));
        Assert.DoesNotContain("<delegate ", File.ReadAllText(Path.Combine(configuration, "delegates.xml")));
        Assert.StartsWith(typeof(MagickImage).Assembly.GetName().Version + "-", Path.GetFileName(configuration));
        if (!OperatingSystem.IsWindows())
        {
            var privateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            Assert.Equal(privateMode, File.GetUnixFileMode(Path.GetDirectoryName(configuration)!));
            Assert.Equal(privateMode, File.GetUnixFileMode(temporary));
        }
    }

    /// <summary>ImageMagick tools the build starts later must not inherit KoalaPic's configuration folder.</summary>
    [Fact]
    public void MagickConfigurePath_IsRestoredAfterStart()
    {
        string expected = Environment.GetEnvironmentVariable("MAGICK_CONFIGURE_PATH") ?? "";

        Assert.Equal(expected, MagickNET.GetEnvironmentVariable("MAGICK_CONFIGURE_PATH") ?? "");
    }

    [SkippableFact]
    public void SharedPolicyFile_WherePinningIsNotAvailable_StopsImageMagick()
    {
        Skip.If(OperatingSystem.IsWindows(), "Magick.Native for Windows has no configuration folders under a shared /tmp.");
        string shared = folder.Combine("tmp-ImageMagick", "etc", "ImageMagick-7");
        Directory.CreateDirectory(shared);
        string[] folders = { folder.Combine("tmp-ImageMagick", "share", "ImageMagick-7"), shared };
        MagickRuntime.RefuseSharedPolicyFiles(folders);

        File.WriteAllText(Path.Combine(shared, "policy.xml"), "<policymap><policy domain=\"coder\" rights=\"read|write\" pattern=\"*\"/></policymap>");

        var error = Assert.Throws<ImageConversionException>(() => MagickRuntime.RefuseSharedPolicyFiles(folders));
        Assert.Equal(MagickCodec.ImageMagickUnavailable, error.Code);
        Assert.Contains(Path.Combine(shared, "policy.xml"), error.Message);
    }

    [SkippableFact]
    public void SharedConfigurationFolders_AreTheOnesCompiledIntoMagickNative()
    {
        Skip.If(OperatingSystem.IsWindows(), "The Windows build reads no folder under /tmp.");
        string library = Directory.EnumerateFiles(NativeLocations.MagickFolder()!, "Magick.Native*").Single();
        string text = Encoding.Latin1.GetString(File.ReadAllBytes(library));
        foreach (string compiledIn in new[] { "/tmp/ImageMagick/share/ImageMagick-7/", "/tmp/ImageMagick/lib/ImageMagick-7.1.2//config-Q8/", "/tmp/ImageMagick/etc/ImageMagick-7/", "/tmp/ImageMagick/share/doc/ImageMagick-7/" })
        {
            Assert.Contains(compiledIn, text);
            Assert.Contains(compiledIn.Replace("//", "/").TrimEnd('/'), MagickRuntime.SharedConfigurationFolders);
        }
    }

    private void AssertNothingLeaked(Exception error)
    {
        Assert.DoesNotContain(secretText, error.ToString());
        Assert.False(File.Exists(Output), "an MSL script wrote a file");
    }
}
