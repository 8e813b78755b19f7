using System;
using System.Globalization;

namespace KoalaPic.Build.Engine;

/// <summary>
/// A size written as a budget: <c>150000</c>, <c>150KB</c>, <c>1.5MB</c>, <c>2GB</c>. Units are decimal
/// (KB = 1000 bytes, MB = 1000 KB, GB = 1000 MB), as <see cref="BatchLog.FormatBytes"/> prints sizes, so a budget of
/// 150KB and an output shown as "150 KB" mean the same thing.
/// </summary>
public static class ByteSize
{
    /// <summary>The accepted values, as a diagnostic lists them.</summary>
    public const string AcceptedValues = "a size such as 150KB, 1.5MB or 150000 (bytes); KB = 1000 bytes, MB = 1000 KB, GB = 1000 MB";

    /// <summary>False for anything but a positive size in B, KB, MB or GB (case ignored), a number of bytes, at most <see cref="long.MaxValue"/>.</summary>
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        string value = text.Trim();
        long unit = 1;
        foreach (var (suffix, size) in new[] { ("GB", 1_000_000_000L), ("MB", 1_000_000L), ("KB", 1000L), ("B", 1L) })
        {
            if (value.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                unit = size;
                value = value.Substring(0, value.Length - suffix.Length).TrimEnd();
                break;
            }
        }

        if (value.Length == 0
            || !decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal number)
            || number <= 0
            || number > long.MaxValue / unit)
        {
            return false;
        }

        decimal exact = number * unit;
        if (exact != decimal.Truncate(exact))
        {
            return false; // 1.5B, or 1.0005KB: not a whole number of bytes
        }

        bytes = (long)exact;
        return true;
    }

    /// <summary><c>163 KB (162,845 bytes)</c>: the size as the log prints it, and exactly, so a budget and a size just over it are told apart.</summary>
    public static string Precise(long bytes) =>
        bytes < 1000
            ? bytes.ToString(CultureInfo.InvariantCulture) + " bytes"
            : BatchLog.FormatBytes(bytes) + " (" + bytes.ToString("N0", CultureInfo.InvariantCulture) + " bytes)";
}
