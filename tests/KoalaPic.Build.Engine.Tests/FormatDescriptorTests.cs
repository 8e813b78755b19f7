using KoalaPic.Build.Engine;
using Xunit;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>The format descriptors: one per format, and the facts that used to be spelled in many places.</summary>
public class FormatDescriptorTests
{
    [Fact]
    public void EveryFormat_HasExactlyOneDescriptor_WithUniqueNames()
    {
        Assert.Equal(Enum.GetValues<ImageFormat>().OrderBy(f => f), ImageFormats.All.Select(d => d.Format).OrderBy(f => f));
        var names = ImageFormats.All.SelectMany(d => d.Aliases.Append(d.Name)).ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(ImageFormats.All, d => Assert.Same(d, ImageFormats.Of(d.Format)));
    }

    [Theory]
    [InlineData("jpg", ImageFormat.Jpeg, ".jpg", "image/jpeg")]
    [InlineData("JPEG", ImageFormat.Jpeg, ".jpg", "image/jpeg")]
    [InlineData("tif", ImageFormat.Tiff, ".tiff", "image/tiff")]
    [InlineData(" heif ", ImageFormat.Heic, ".heic", "image/heic")]
    [InlineData("svg", ImageFormat.Svg, ".svg", "image/svg+xml")]
    [InlineData("ico", ImageFormat.Ico, ".ico", "image/x-icon")]
    [InlineData("avif", ImageFormat.Avif, ".avif", "image/avif")]
    public void TryParse_NameOrAlias_GivesTheDescriptorsFormat(string name, ImageFormat expected, string extension, string mimeType)
    {
        Assert.True(ImageFormats.TryParse(name, out ImageFormat format));
        Assert.Equal(expected, format);
        Assert.Equal(extension, ImageFormats.Of(format).Extension);
        Assert.Equal(mimeType, ImageFormats.Of(format).MimeType);
    }

    [Fact]
    public void AcceptedValues_AndTheSmartQualityList_AreDerivedFromTheDescriptors()
    {
        Assert.Equal("jpg (default), png, webp, avif, gif, ico, bmp, tiff, pdf, heic, svg, jxl; aliases jpeg, tif, heif, jpeg-xl", ImageFormats.AcceptedValues);
        Assert.Equal("jpg, webp and avif", ImageFormats.NamesWhere(d => d.SmartQualityApplies));
        Assert.Equal("ico, bmp, pdf or jxl", ImageFormats.NamesWhere(d => d.EncodedByImageMagick, "or"));
    }

    [Theory]
    [InlineData("img/a.png", "", "", false)]
    [InlineData("img/a.png", "webp;avif", "", false)]
    [InlineData("img/a.png", "ico", "", true)]
    [InlineData("img/a.png", "webp, BMP", "", true)]
    [InlineData("img/a.png", "pdf", "", true)]
    [InlineData("img/a.png", "", "favicon", true)]
    [InlineData("img/a.png", "", "FAVICON ", true)]
    [InlineData("img/a.png", "png", "favicon", false)]
    [InlineData("img/a.png", "", "web-hero", false)]
    [InlineData("img/a.HEIC", "", "", true)]
    [InlineData("img/a.heif", "webp", "", true)]
    [InlineData("img.heic/a", "", "", false)]
    [InlineData("img/a.png", "heic", "", false)]
    [InlineData("img/a.png", "wepb;ico", "", true)]
    public void NeedsImageMagick_FromTheDescriptors(string itemSpec, string format, string optimizeFor, bool expected)
    {
        var item = new JobItem { ItemSpec = itemSpec, Metadata = new() { ["Format"] = format, ["OptimizeFor"] = optimizeFor } };

        Assert.Equal(expected, item.NeedsImageMagick());
    }

    [Fact]
    public void ImageMagickNeed_Description_NamesWhatTheDescriptorsSay()
    {
        Assert.Equal("ico, bmp, pdf or jxl in Format, OptimizeFor=favicon, a source named .heic, .heif, .jxl or .jpeg-xl", ImageMagickNeed.Description);
    }

    [Fact]
    public void Manifest_CarriesEachVariantsMimeTypeFromItsDescriptor()
    {
        string project = Path.Combine(Path.GetTempPath(), "koalapic-descriptor", "Demo");
        var results = new[] { ImageFormat.Avif, ImageFormat.Svg }.Select(format =>
        {
            var request = new ImageRequest("img/a.png", Path.Combine(project, "img", "a.png"), "img/a" + ImageFormats.Extension(format), ConversionOptions.Default with { Format = format });
            return new ItemResult(request, "/out/" + request.OutputPath, ItemOutcome.Converted, 10, 5, null);
        });

        ImageManifest manifest = ImageManifest.Create(project, results);

        Assert.Equal(new[] { "image/avif", "image/svg+xml" }, manifest.Images.Single().Variants.Select(v => v.Type));
        Assert.Contains("\"type\": \"image/avif\"", System.Text.Encoding.UTF8.GetString(manifest.ToJsonBytes()));
    }
}

/// <summary>Adding a format touches its descriptor and its encoder: the build's targets spell no format's facts.</summary>
public class FormatFactsOutsideDescriptorsTests
{
    [Fact]
    public void Targets_SpellNoFormatsExtensionOrMimeType()
    {
        foreach ((string file, string targets) in BuildFiles.All())
        {
            foreach (FormatDescriptor format in ImageFormats.All)
            {
                Assert.False(targets.Contains(format.MimeType, StringComparison.OrdinalIgnoreCase), $"{file} spells the MIME type '{format.MimeType}'; take the format's facts from its descriptor, through the task");
                foreach (string name in format.Aliases.Append(format.Name))
                {
                    // ".avif", "*.avif", '.avif': an extension, wherever it would be matched or mapped.
                    Assert.False(
                        System.Text.RegularExpressions.Regex.IsMatch(targets, @"\." + System.Text.RegularExpressions.Regex.Escape(name) + @"(?![\w-])", System.Text.RegularExpressions.RegexOptions.IgnoreCase),
                        $"{file} spells the extension '.{name}'; take the format's facts from its descriptor, through the task");
                }
            }
        }
    }

    [Fact]
    public void MagickPolicy_AllowsExactlyTheDescriptorsCodersAndModules_ReadOrWrittenAsTheyAre()
    {
        string policy = MagickRuntime.PolicyXml("/tmp/koalapic-magick");

        Assert.Contains("<policy domain=\"module\" rights=\"read|write\" pattern=\"{ICON,PNG,BMP,PDF,JPEG,HEIC,JXL}\"/>", policy);
        Assert.Contains("<policy domain=\"coder\" rights=\"read\" pattern=\"HEIC\"/>", policy);
        Assert.Contains("<policy domain=\"coder\" rights=\"write\" pattern=\"{ICO,PNG32,BMP,BMP3,PDF,JPEG}\"/>", policy);
        Assert.Contains("<policy domain=\"coder\" rights=\"read|write\" pattern=\"JXL\"/>", policy);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(policy, "domain=\"coder\" rights=\"(read|write|read\\|write)\"").Count);
    }

    [Fact]
    public void SourcesAreReadByTheLoadersAndSignaturesOfTheDescriptors()
    {
        Assert.Equal("jpg, png, webp, avif, gif, tiff, heic, svg, jxl", SourceSignature.FormatsRead);
        Assert.Equal(ImageFormats.All.Where(f => f.LibvipsLoader != null).Select(f => f.LibvipsLoader), ImageConverter.AllowedLoaders.Keys);
        Assert.All(ImageFormats.All.Where(f => f.DecodedByImageMagick), f => Assert.NotNull(f.Recognises));
        Assert.True(FormatDescriptor.Jxl.Recognises!(new byte[] { 0xFF, 0x0A, 0x00 }));
        Assert.False(FormatDescriptor.Jxl.Recognises!(new byte[] { 0xFF, 0xD8, 0xFF }));
        Assert.False(FormatDescriptor.Heic.Recognises!(new byte[] { 0xFF, 0x0A, 0x00 }));
    }
}
