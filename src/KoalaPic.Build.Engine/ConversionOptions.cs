using System.Globalization;

namespace KoalaPic.Build.Engine;

/// <summary>Everything that decides the bytes of one output image. Its <see cref="CacheKeyText"/> feeds the content hash.</summary>
public sealed record ConversionOptions(ImageFormat Format, int Quality, int? Width, int? Height)
{
    public const int DefaultQuality = 85;
    public const int MaxDimension = 100_000;

    public static ConversionOptions Default { get; } = new(ImageFormat.Jpeg, DefaultQuality, null, null);

    /// <summary>A stable text of every setting, so that changing any of them changes the cache key.</summary>
    public string CacheKeyText => string.Join(
        ";",
        "format=" + ImageFormats.Name(Format),
        "quality=" + Quality.ToString(CultureInfo.InvariantCulture),
        "width=" + (Width?.ToString(CultureInfo.InvariantCulture) ?? "auto"),
        "height=" + (Height?.ToString(CultureInfo.InvariantCulture) ?? "auto"));
}
