using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using KoalaPic.Build.Engine;
using NetVips;

// What each AVIF and WebP effort costs and saves at one perceptual score: for every image, width and format, the
// bytes at exactly SmartQuality's target SSIMULACRA distance (interpolated between the two neighbouring qualities that
// straddle it) and the CPU time per encode, at every effort, relative to the current default effort of that format.
// The encoder is the engine's (ImageConverter.EncodeWithLibvips), the metric SmartQuality's. See README.md.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var options = BenchOptions.Parse(args);
if (options.ReportFrom != null)
{
    // The table from measurements written before (--jsonl), such as those of a run stopped part-way.
    Report.Print(File.ReadAllLines(options.ReportFrom).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<Measured>(l)!).ToList(), options);
    return 0;
}

VipsRuntime.EnsureInitialized(options.ParallelImages);
Console.Error.WriteLine($"effort bench: {options.Images.Length} images, widths {string.Join(",", options.Widths)}, formats {string.Join(",", options.Formats)}, SmartQuality {options.Level} target, libvips threads per image for {options.ParallelImages} image(s) at once; load average {LoadAverage()}");

// Every image at the smallest width first: a run stopped part-way (the widest AVIF encodes are slow) still has
// every image at the widths it reached. Each measurement is appended to --jsonl as it is made.
var results = new List<Measured>();
var reachedWidth = new Dictionary<string, int>();
foreach (int width in options.Widths)
{
    foreach (string name in options.Images)
    {
        byte[] source = File.ReadAllBytes(Path.Combine(options.Corpus, name));
        using Image reference = Reference(source, width);
        if (reference.Width <= reachedWidth.GetValueOrDefault(name))
        {
            Console.Error.WriteLine($"{name}: {reference.Width} px wide, not enlarged to {width}");
            continue;
        }

        reachedWidth[name] = reference.Width;
        using var prepared = new SmartQuality.PreparedReference(reference);
        foreach (ImageFormat format in options.Formats)
        {
            foreach (Measured measured in new EffortSweep(reference, prepared, format, options.Level).Run(name, width, options.EffortsOf(format)))
            {
                results.Add(measured);
                if (options.JsonLines != null)
                {
                    File.AppendAllText(options.JsonLines, JsonSerializer.Serialize(measured) + "\n");
                }
            }
        }
    }
}

Report.Print(results, options);
Console.Error.WriteLine($"load average at the end {LoadAverage()}");
return 0;

// The engine's own resized, sRGB, 8-bit pixels, as every encoder is given them (lossless PNG, decoded back).
static Image Reference(byte[] source, int width)
{
    byte[] png = ImageConverter.Convert(source, new ConversionOptions(ImageFormat.Png, 100, width, null) { Lossless = true, Effort = 1 }).Bytes;
    using Image decoded = Image.NewFromBuffer(png, access: Enums.Access.Random, failOn: Enums.FailOn.Error);
    return decoded.CopyMemory();
}

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

internal sealed record BenchOptions(string Corpus, int[] Widths, ImageFormat[] Formats, string[] Images, int ParallelImages, SmartQualityLevel Level, string? JsonLines, string? ReportFrom, Dictionary<ImageFormat, (int From, int To)> Efforts)
{
    /// <summary>The efforts measured: <c>--efforts avif=0-6,webp=0-6</c>; a format not named gets its whole range.</summary>
    public IReadOnlyList<int> EffortsOf(ImageFormat format)
    {
        FormatEffort knob = ImageFormats.Of(format).Effort ?? throw new ArgumentException($"{format} has no effort setting");
        var (from, to) = Efforts.TryGetValue(format, out var range) ? range : (knob.Min, knob.Max);
        return Enumerable.Range(from, to - from + 1).Where(knob.Accepts).ToList();
    }

    /// <summary>Photos from sharp's fixtures (Landscape_2..8 are Landscape_1 turned) and graphics with flat colour, gradients and alpha.</summary>
    public static readonly string[] DefaultImages =
    {
        "2569067123_aca715a2ee_o.jpg", "concert.jpg", "flowers.jpeg", "Landscape_1.jpg", "Channel_digital_image_CMYK_color.jpg",
        "4.webp", "sdr_cosmos12920_cicp1-13-6_yuv444_full_qp10.avif", "uncompressed_tiff.tiff",
        "gradients-rgb8.png", "alpha-layer-1-fill.png", "5_webp_a.webp",
    };

    public static BenchOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i].StartsWith("--", StringComparison.Ordinal) ? args[i][2..] : throw new ArgumentException($"expected --name value, got '{args[i]}'")] = args[i + 1];
        }

        string Get(string name, string fallback) => values.TryGetValue(name, out string? v) ? v : fallback;
        string corpus = Path.GetFullPath(Get("corpus", Path.Combine(AppContext.BaseDirectory, "../../../../../../shared/corpus/fixtures")));
        return new BenchOptions(
            corpus,
            Get("widths", "960,1920").Split(',').Select(int.Parse).ToArray(),
            Get("formats", "avif,webp").Split(',').Select(f => ImageFormats.TryParse(f, out ImageFormat format) ? format : throw new ArgumentException($"unknown format '{f}'")).ToArray(),
            values.TryGetValue("images", out string? images) ? images.Split(',') : DefaultImages.Where(i => File.Exists(Path.Combine(corpus, i))).ToArray(),
            int.Parse(Get("parallel", "1"), CultureInfo.InvariantCulture),
            Enum.Parse<SmartQualityLevel>(Get("level", "medium"), ignoreCase: true),
            values.TryGetValue("jsonl", out string? jsonl) ? Path.GetFullPath(jsonl) : null,
            values.TryGetValue("report", out string? report) ? Path.GetFullPath(report) : null,
            Get("efforts", "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(e => e.Split('=', '-')).ToDictionary(
                e => ImageFormats.TryParse(e[0], out ImageFormat f) ? f : throw new ArgumentException($"unknown format '{e[0]}'"),
                e => (int.Parse(e[1], CultureInfo.InvariantCulture), int.Parse(e[^1], CultureInfo.InvariantCulture))));
    }
}

/// <summary>One image at one width in one format at one effort: the bytes at the target distance and the cost of an encode.</summary>
/// <param name="Width">The reference's width: the width asked for, or the source's own when it is narrower.</param>
/// <param name="Bytes">Interpolated at the target distance; at the top quality's bytes when even that missed it.</param>
/// <param name="CpuMs">Median process CPU time (all threads) per encode at this effort.</param>
internal sealed record Measured(string Image, int Width, ImageFormat Format, int Effort, double Bytes, double CpuMs, double WallMs, int Quality, bool Missed);

/// <summary>All efforts of one format on one reference: the default effort first, searched as SmartQuality searches, then each other effort walked from its quality.</summary>
internal sealed class EffortSweep(Image reference, SmartQuality.PreparedReference prepared, ImageFormat format, SmartQualityLevel level)
{
    private readonly double target = SmartQuality.Target(format, level);
    private readonly (int Lowest, int Highest) bounds = SmartQuality.Bounds(format, level);

    private sealed record Encode(int Bytes, double Distance, double CpuMs, double WallMs);

    public IEnumerable<Measured> Run(string name, int width, IReadOnlyList<int> efforts)
    {
        FormatEffort knob = ImageFormats.Of(format).Effort!;
        var seen = new Dictionary<(int Effort, int Quality), Encode>();
        Encode Measure(int effort, int quality)
        {
            if (!seen.TryGetValue((effort, quality), out Encode? result))
            {
                var options = new ConversionOptions(format, quality, null, null) { Effort = effort };
                TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var wall = Stopwatch.StartNew();
                byte[] bytes = ImageConverter.EncodeWithLibvips(reference, options, quality);
                double wallMs = wall.Elapsed.TotalMilliseconds;
                double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
                using Image decoded = Image.NewFromBuffer(bytes, access: Enums.Access.Random, failOn: Enums.FailOn.Error);
                result = new Encode(bytes.Length, prepared.DistanceTo(decoded), cpuMs, wallMs);
                seen.Add((effort, quality), result);
            }

            return result;
        }

        // The fastest effort by binary search over SmartQuality's bounds (as SmartQuality searches): the lowest
        // quality that meets the target there is where every effort's walk starts.
        int low = bounds.Lowest, high = bounds.Highest;
        while (low < high)
        {
            int middle = low + ((high - low) / 2);
            if (Measure(knob.Min, middle).Distance <= target)
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        int start = high;

        // Every effort (the fastest again: its walk reuses the search's encodes) from there: efforts need
        // neighbouring qualities for one distance, so a few encodes find where each crosses the target. The default
        // is always measured, as what the others are compared with.
        foreach (int effort in efforts.Append(knob.Default).Distinct().OrderBy(e => e))
        {
            // From the previous effort's quality: the quality that meets the target drifts one way as effort grows.
            var (bytes, quality, missed) = AtTarget(q => Measure(effort, q), start);
            start = quality;
            var costs = seen.Where(s => s.Key.Effort == effort).Select(s => s.Value).ToList();
            var measured = new Measured(name, reference.Width, format, effort, bytes, Median(costs.Select(c => c.CpuMs)), Median(costs.Select(c => c.WallMs)), quality, missed);
            Console.Error.WriteLine($"{name} {reference.Width} {format} effort {effort}: q{quality}{(missed ? " (missed)" : "")} {bytes / 1024:F1} KiB, {measured.CpuMs:F0} ms CPU, {measured.WallMs:F0} ms wall per encode ({costs.Count} encodes)");
            yield return measured;
        }
    }

    /// <summary>Walks from <paramref name="start"/> to the two qualities that straddle the target and interpolates the bytes between them.</summary>
    private (double Bytes, int Quality, bool Missed) AtTarget(Func<int, Encode> measure, int start)
    {
        int q = Math.Clamp(start, bounds.Lowest, bounds.Highest);
        if (measure(q).Distance <= target)
        {
            while (q > bounds.Lowest && measure(q - 1).Distance <= target)
            {
                q--;
            }

            return q == bounds.Lowest ? (measure(q).Bytes, q, false) : (Between(measure(q - 1), measure(q)), q, false);
        }

        while (q < bounds.Highest && measure(q).Distance > target)
        {
            q++;
        }

        return measure(q).Distance > target ? (measure(q).Bytes, q, true) : (Between(measure(q - 1), measure(q)), q, false);
    }

    /// <summary>The bytes where the line from the failing encode to the passing one reaches the target distance.</summary>
    private double Between(Encode failing, Encode passing)
    {
        double span = failing.Distance - passing.Distance;
        double t = span <= 0 ? 1 : Math.Clamp((failing.Distance - target) / span, 0, 1);
        return failing.Bytes + (t * (passing.Bytes - failing.Bytes));
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}

/// <summary>Per format, width and effort: medians over the images of bytes and CPU time relative to the default effort.</summary>
internal static class Report
{
    public static void Print(List<Measured> results, BenchOptions options)
    {
        Console.WriteLine("| format | width | effort | images | bytes vs default (median) | images with bytes ≤ default | CPU per encode vs default (median) | CPU ms per encode (median) | wall ms per encode (median) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        var groups = results.GroupBy(r => (r.Format, Width: WidthClass(r.Width, options.Widths).ToString(CultureInfo.InvariantCulture)))
            .Concat(options.Widths.Length > 1 ? results.GroupBy(r => (r.Format, Width: "all")) : [])
            .OrderBy(g => g.Key.Format).ThenBy(g => g.Key.Width == "all").ThenBy(g => g.Key.Width.Length).ThenBy(g => g.Key.Width);
        var leftOut = new SortedDictionary<string, SortedSet<int>>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            ImageFormat format = group.Key.Format;
            int defaultEffort = ImageFormats.Of(format).Effort!.Default;
            int lowest = SmartQuality.Bounds(format, options.Level).Lowest;

            // Only encodes at the target distance compare: one that missed it at the top quality, or was under it
            // already at the lowest quality searched (a smooth image), is at another distance.
            bool AtTarget(Measured m) => !m.Missed && m.Quality > lowest;
            var byImage = group.GroupBy(r => (r.Image, r.Width)).ToDictionary(g => g.Key, g => g.GroupBy(r => r.Effort).ToDictionary(e => e.Key, e => e.First()));
            foreach (int effort in group.Select(r => r.Effort).Distinct().OrderBy(e => e))
            {
                var pairs = new List<(Measured At, Measured Default)>();
                foreach (var (image, efforts) in byImage)
                {
                    if (!efforts.TryGetValue(effort, out Measured? at) || !efforts.TryGetValue(defaultEffort, out Measured? byDefault))
                    {
                        continue;
                    }

                    if (AtTarget(at) && AtTarget(byDefault))
                    {
                        pairs.Add((at, byDefault));
                    }
                    else
                    {
                        string why = at.Missed || byDefault.Missed ? "missed the target at the highest quality searched" : "under the target already at the lowest quality searched";
                        string key = $"{ImageFormats.Name(format)} {image.Image} at {image.Width} px: {why}";
                        if (!leftOut.TryGetValue(key, out SortedSet<int>? leftOutEfforts))
                        {
                            leftOut[key] = leftOutEfforts = new SortedSet<int>();
                        }

                        leftOutEfforts.Add(effort);
                    }
                }

                if (pairs.Count == 0)
                {
                    continue;
                }

                double bytesRatio = EffortSweep.Median(pairs.Select(p => p.At.Bytes / p.Default.Bytes));
                int notLarger = pairs.Count(p => p.At.Bytes <= p.Default.Bytes);
                double cpuRatio = EffortSweep.Median(pairs.Select(p => p.At.CpuMs / p.Default.CpuMs));
                double cpu = EffortSweep.Median(pairs.Select(p => p.At.CpuMs));
                double wall = EffortSweep.Median(pairs.Select(p => p.At.WallMs));
                Console.WriteLine($"| {ImageFormats.Name(format)} | {group.Key.Width} | {effort}{(effort == defaultEffort ? " (default)" : "")} | {pairs.Count} | {bytesRatio * 100:F1} % | {notLarger} of {pairs.Count} | {cpuRatio:F2}× | {cpu:F0} | {wall:F0} |");
            }
        }

        foreach (var (line, efforts) in leftOut)
        {
            Console.WriteLine($"- left out, not at the target distance: {line} (efforts {string.Join(", ", efforts)})");
        }
    }

    /// <summary>The smallest width asked for that the image's own width does not exceed (an image narrower than every width counts under the smallest).</summary>
    private static int WidthClass(int width, int[] widths) => widths.Where(w => w >= width).DefaultIfEmpty(widths.Max()).Min();
}
