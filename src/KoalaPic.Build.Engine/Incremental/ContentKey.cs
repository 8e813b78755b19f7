using System.IO.Hashing;
using System.Text;

namespace KoalaPic.Build.Engine;

/// <summary>
/// The cache key of an output: XxHash128 of the source bytes, every setting that affects the output and the engine
/// version. Equal keys mean equal output bytes, whatever the file's name or timestamp.
/// </summary>
public static class ContentKey
{
    // Bumped when the meaning of a key changes (pipeline defaults, encoder settings not in the options).
    // v2: Quality means "looks like JPEG at this quality" on every lossy format (QualityScale).
    // v3: jxl joins that scale (its QualityScale row).
    // v4: outputs that share a decode are thumbnailed from the source as loaded, not from the largest output.
    private const string Schema = "koalapic-key-v4";

    public static string Compute(byte[] source, ConversionOptions options, string engineVersion)
    {
        var hash = new XxHash128();
        hash.Append(Encoding.UTF8.GetBytes(Schema + "\n" + engineVersion + "\n" + options.CacheKeyText + "\n"));
        hash.Append(source);
        return ToHex(hash.GetCurrentHash());
    }

    /// <summary>
    /// A hash of everything in the key but the source bytes: a recorded key still holds for an unchanged source
    /// while this is equal (<see cref="OutputState.SourceUnchanged"/>).
    /// </summary>
    public static string Settings(ConversionOptions options, string engineVersion)
    {
        var hash = new XxHash128();
        hash.Append(Encoding.UTF8.GetBytes(Schema + "\n" + engineVersion + "\n" + options.CacheKeyText + "\n"));
        return ToHex(hash.GetCurrentHash());
    }

    /// <summary>Lower-case hex, two digits a byte: how KoalaPic writes every hash it keeps in a file.</summary>
    public static string ToHex(byte[] bytes)
    {
        var text = new StringBuilder(bytes.Length * 2);
        foreach (byte b in bytes)
        {
            text.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }
}
