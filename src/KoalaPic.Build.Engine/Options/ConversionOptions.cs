using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace KoalaPic.Build.Engine;

/// <summary>An sRGB colour with alpha (255 = opaque), for contain bars and for flattening transparency.</summary>
public readonly record struct Colour(byte R, byte G, byte B, byte A = 255)
{
    public static Colour White { get; } = new(255, 255, 255);

    /// <summary>As #rrggbb, or #rrggbbaa when not opaque.</summary>
    public override string ToString() =>
        A == 255
            ? string.Format(CultureInfo.InvariantCulture, "#{0:x2}{1:x2}{2:x2}", R, G, B)
            : string.Format(CultureInfo.InvariantCulture, "#{0:x2}{1:x2}{2:x2}{3:x2}", R, G, B, A);

    /// <summary>Accepts #rgb, #rrggbb, #rrggbbaa and the names white, black, transparent.</summary>
    public static bool TryParse(string text, out Colour colour)
    {
        colour = White;
        string value = text.Trim();
        switch (value.ToLowerInvariant())
        {
            case "white":
                return true;
            case "black":
                colour = new Colour(0, 0, 0);
                return true;
            case "transparent":
                colour = new Colour(255, 255, 255, 0);
                return true;
        }

        if (value.Length < 4 || value[0] != '#' || !value.Skip(1).All(Uri.IsHexDigit))
        {
            return false;
        }

        string hex = value.Substring(1);
        if (hex.Length == 3)
        {
            hex = string.Concat(hex.Select(c => new string(c, 2)));
        }

        if (hex.Length != 6 && hex.Length != 8)
        {
            return false;
        }

        byte Channel(int i) => byte.Parse(hex.Substring(i * 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        colour = new Colour(Channel(0), Channel(1), Channel(2), hex.Length == 8 ? Channel(3) : (byte)255);
        return true;
    }
}

/// <summary>Everything that decides the bytes of one output image. Its <see cref="CacheKeyText"/> feeds the content hash.</summary>
public sealed record ConversionOptions(ImageFormat Format, int Quality, int? Width, int? Height)
{
    public const int DefaultQuality = 85;
    public const int MaxDimension = 100_000;

    /// <summary>The icon sizes written into an .ico by default (those larger than the image are left out).</summary>
    public static readonly IReadOnlyList<int> DefaultIcoSizes = new[] { 16, 32, 48, 64, 128, 256 };

    public static ConversionOptions Default { get; } = new(ImageFormat.Jpeg, DefaultQuality, null, null);

    public FitMode Fit { get; init; } = FitMode.Inside;

    public CropPosition Position { get; init; } = CropPosition.Center;

    /// <summary>Whether an image smaller than the requested size is scaled up (SVG sources are always rendered at the requested size).</summary>
    public bool Enlarge { get; init; }

    /// <summary>Colour of contain bars and of transparency flattened into formats without alpha.</summary>
    public Colour Background { get; init; } = Colour.White;

    /// <summary>Lossless webp, avif or heic.</summary>
    public bool Lossless { get; init; }

    public SmartQualityLevel SmartQuality { get; init; } = SmartQualityLevel.None;

    /// <summary>Keep EXIF, XMP, IPTC and the ICC profile instead of stripping them (colour is still converted to sRGB).</summary>
    public bool KeepMetadata { get; init; }

    /// <summary>The square sizes of an .ico; sizes larger than the image are left out.</summary>
    public IReadOnlyList<int> IcoSizes { get; init; } = DefaultIcoSizes;

    /// <summary>The encoder effort the item asked for (Effort metadata), within the format's range; null for the format's default.</summary>
    public int? Effort { get; init; }

    /// <summary>The effort the encoder is given: <see cref="Effort"/>, else the format's default; null for formats without an effort knob.</summary>
    public int? EncoderEffort => ImageFormats.Of(Format).Effort is FormatEffort knob ? Effort ?? knob.Default : null;

    /// <summary>A stable text of every setting in the cache key (<see cref="ItemMetadata.All"/> decides which), so that changing any of them changes the key.</summary>
    public string CacheKeyText => ItemMetadata.CacheKeyText(this);
}
