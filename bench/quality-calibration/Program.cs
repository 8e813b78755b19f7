using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using KoalaPic.Build.Engine;
using NetVips;

// Calibrates QualityScale: for each lossy encoder, the encoder quality whose median SSIMULACRA distance on the corpus
// equals JPEG's at each JPEG quality. See README.md for the commands.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var options = Options.Parse(args.Skip(1).ToArray());
string mode = args.Length > 0 ? args[0] : "calibrate";
VipsRuntime.EnsureInitialized(options.Parallel);
switch (mode)
{
    case "calibrate":
        Calibration.Run(options);
        break;
    case "score":
        Scoring.Run(options);
        break;
    case "compare":
        Comparison.Run(options, args.Skip(1).ToArray());
        break;
    default:
        Console.Error.WriteLine("usage: calibrate [--corpus DIR] [--widths 960] [--formats webp,avif,heic,jxl] [--images a.jpg,b.png] [--parallel N]");
        Console.Error.WriteLine("       score --corpus SOURCES --outputs FOLDER   (median bytes and distance per output format)");
        Console.Error.WriteLine("       compare --corpus SOURCES --tool NAME=FOLDER --tool NAME=FOLDER   (stem-480w.avif outputs, each scored)");
        return 2;
}

return 0;

internal sealed record Options(string Corpus, int[] Widths, ImageFormat[] Formats, string[] Images, int Parallel, string? Outputs)
{
    public static Options Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"expected --name value, got '{args[i]}'");
            }

            values[args[i][2..]] = args[i + 1];
        }

        string Get(string name, string fallback) => values.TryGetValue(name, out string? v) ? v : fallback;
        string corpus = Path.GetFullPath(Get("corpus", Path.Combine(AppContext.BaseDirectory, "../../../../../../shared/corpus/fixtures")));
        return new Options(
            corpus,
            Get("widths", "960").Split(',').Select(int.Parse).ToArray(),
            Get("formats", TestImages.HeicAvailable ? "webp,avif,heic,jxl" : "webp,avif,jxl").Split(',').Select(TestImages.ParseFormat).ToArray(),
            Get("images", string.Join(",", TestImages.Photos.Concat(TestImages.Graphics))).Split(','),
            int.Parse(Get("parallel", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture))),
            values.TryGetValue("outputs", out string? outputs) ? Path.GetFullPath(outputs) : null);
    }
}

/// <summary>The images, how they are prepared, encoded and decoded: the engine's own encoders and settings.</summary>
internal static class TestImages
{
    /// <summary>
    /// Photos from sharp's fixtures. Landscape_2..8 are Landscape_1 with other EXIF orientations, so only _1 is used;
    /// p3.png (8x8) and prophoto.png (1x1) are colour-profile tests, not photos.
    /// </summary>
    public static readonly string[] Photos =
    {
        "2569067123_aca715a2ee_o.jpg", "concert.jpg", "flowers.jpeg", "Landscape_1.jpg", "Channel_digital_image_CMYK_color.jpg",
        "4.webp", "sdr_cosmos12920_cicp1-13-6_yuv444_full_qp10.avif", "uncompressed_tiff.tiff",
    };

    /// <summary>Graphics: gradients, flat colour, transparency. full-transparent.png is left out (nothing to see).</summary>
    public static readonly string[] Graphics =
    {
        "gradients-rgb8.png", "alpha-layer-1-fill.png", "Flag_of_the_Netherlands-16bit.png", "with-alpha.png",
        "5_webp_a.webp", "16-bit-grey-alpha.png",
    };

    public static readonly int[] JpegQualities = QualityScale.JpegQualities;

    public static bool HeicAvailable => HeicEncoder.IsAvailable(out _);

    public static ImageFormat ParseFormat(string name) =>
        ImageFormats.TryParse(name, out ImageFormat format) ? format : throw new ArgumentException($"unknown format '{name}'");

    /// <summary>The encoder qualities measured per format: enough points below and above any JPEG match.</summary>
    public static int[] EncoderQualities(ImageFormat format) => format == ImageFormat.Jpeg
        ? JpegQualities
        : Enumerable.Range(2, 19).Select(i => i * 5).ToArray();

    /// <summary>
    /// The source resized to <paramref name="width"/> (never enlarged) as 8-bit sRGB or grey, flattened onto white: every
    /// format is judged as it looks on a white page, so JPEG (which cannot carry alpha) and the others compare alike.
    /// </summary>
    public static Image Reference(string path, int width)
    {
        byte[] source = File.ReadAllBytes(path);
        using Image thumb = Image.ThumbnailBuffer(source, width, height: 10_000_000, size: Enums.Size.Down, outputProfile: "srgb", failOn: Enums.FailOn.Error);
        using Image colour = thumb.Colourspace(thumb.Bands <= 2 ? Enums.Interpretation.Bw : Enums.Interpretation.Srgb);
        using Image bytes = colour.Cast(Enums.BandFormat.Uchar);
        using Image flat = bytes.HasAlpha() ? bytes.Flatten(Enumerable.Repeat(255.0, bytes.Bands - 1).ToArray()) : bytes.Copy();
        return flat.CopyMemory();
    }

    /// <summary>
    /// Whether the source at <paramref name="path"/> has an alpha channel with any pixel less than fully opaque: what
    /// JPEG cannot represent (it flattens such pixels away, where webp and avif keep them). The alpha band's minimum is
    /// compared with its interpretation's opaque value, as libvips's vips_interpretation_max_alpha defines it.
    /// </summary>
    public static bool IsTransparent(string path)
    {
        using Image image = Image.NewFromFile(path, access: Enums.Access.Sequential, failOn: Enums.FailOn.Error);
        if (!image.HasAlpha())
        {
            return false;
        }

        double opaque = image.Interpretation switch
        {
            Enums.Interpretation.Rgb16 or Enums.Interpretation.Grey16 => 65535,
            Enums.Interpretation.Scrgb => 1,
            _ => 255,
        };
        using Image alpha = image.ExtractBand(image.Bands - 1);
        return alpha.Min() < opaque;
    }

    /// <summary>Encodes at <paramref name="quality"/> on the encoder's own scale, as the engine does.</summary>
    public static byte[] Encode(Image image, ImageFormat format, int quality) => format switch
    {
        ImageFormat.Heic => HeicEncoder.Encode(image, quality, lossless: false),
        ImageFormat.Jxl => MagickCodec.EncodeJxl(image, quality, lossless: false),
        _ => ImageConverter.EncodeWithLibvips(image, new ConversionOptions(format, quality, null, null), quality),
    };

    /// <summary>Decodes as the engine does: heic and jxl through ImageMagick (NetVips.Native reads neither).</summary>
    public static Image Decode(byte[] bytes, ImageFormat format)
    {
        using Image decoded = format switch
        {
            ImageFormat.Heic => MagickCodec.DecodeHeic(bytes, ImageConverter.DefaultMaxPixels),
            ImageFormat.Jxl => MagickCodec.DecodeJxl(bytes, ImageConverter.DefaultMaxPixels),
            _ => Image.NewFromBuffer(bytes, access: Enums.Access.Random, failOn: Enums.FailOn.Error),
        };
        using Image colour = decoded.Colourspace(decoded.Bands <= 2 ? Enums.Interpretation.Bw : Enums.Interpretation.Srgb);
        using Image uchar = colour.Cast(Enums.BandFormat.Uchar);
        using Image flat = uchar.HasAlpha() ? uchar.Flatten(Enumerable.Repeat(255.0, uchar.Bands - 1).ToArray()) : uchar.Copy();
        return flat.CopyMemory();
    }

    public static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}

/// <summary>calibrate: distance and bytes curves per image, format and quality; their medians; the mapping rows.</summary>
internal static class Calibration
{
    private sealed record Point(string Image, int Width, ImageFormat Format, int Quality, double Distance, int Bytes);

    public static void Run(Options options)
    {
        var formats = new[] { ImageFormat.Jpeg }.Concat(options.Formats.Where(f => f != ImageFormat.Jpeg)).ToArray();
        var cases = (from name in options.Images from width in options.Widths select (Name: name, Width: width)).ToList();
        Console.WriteLine($"# quality calibration: {cases.Count} image x width cases ({string.Join(",", options.Widths)} wide), formats {string.Join(",", formats.Select(ImageFormats.Name))}, {options.Parallel} in parallel");
        var points = new ConcurrentBag<Point>();
        var watch = Stopwatch.StartNew();
        Parallel.ForEach(cases, new ParallelOptions { MaxDegreeOfParallelism = options.Parallel }, c =>
        {
            using Image reference = TestImages.Reference(Path.Combine(options.Corpus, c.Name), c.Width);
            using var prepared = new SmartQuality.PreparedReference(reference);
            foreach (ImageFormat format in formats)
            {
                foreach (int q in TestImages.EncoderQualities(format))
                {
                    byte[] bytes = TestImages.Encode(reference, format, q);
                    using Image decoded = TestImages.Decode(bytes, format);
                    points.Add(new Point(c.Name, c.Width, format, q, prepared.DistanceTo(decoded), bytes.Length));
                }
            }

            Console.Error.WriteLine($"[{watch.Elapsed.TotalSeconds,5:F0} s] {c.Name} at {reference.Width}x{reference.Height}");
        });

        var all = points.ToList();
        PrintCurves(all, formats);
        var photoSet = new HashSet<string>(TestImages.Photos, StringComparer.Ordinal);
        PrintMapping("all images", all, formats);
        // The rows come from the photos: see QualityScale's remarks for why.
        var rows = PrintMapping("photos only", all.Where(p => photoSet.Contains(p.Image)).ToList(), formats);
        PrintMapping("graphics only", all.Where(p => !photoSet.Contains(p.Image)).ToList(), formats);

        Console.WriteLine();
        Console.WriteLine("## FormatDescriptor qualityScale rows (photos)");
        foreach (var (format, row) in rows)
        {
            Console.WriteLine($"        {format}: qualityScale: new[] {{ {string.Join(", ", row)} }}");
        }

        Console.WriteLine();
        Console.WriteLine($"total {watch.Elapsed.TotalSeconds:F0} s wall");
    }

    private static void PrintCurves(List<Point> points, ImageFormat[] formats)
    {
        Console.WriteLine();
        Console.WriteLine("## Median distance and median bytes per encoder quality (all images)");
        foreach (ImageFormat format in formats)
        {
            Console.WriteLine($"{ImageFormats.Name(format),-5} " + string.Join(" | ", TestImages.EncoderQualities(format).Select(q =>
            {
                var at = points.Where(p => p.Format == format && p.Quality == q).ToList();
                return $"q{q} {TestImages.Median(at.Select(p => p.Distance)):F4} {TestImages.Median(at.Select(p => (double)p.Bytes)) / 1024:F1}k";
            })));
        }
    }

    /// <summary>Prints, per JPEG quality, each format's matching encoder quality and its median bytes against JPEG's.</summary>
    private static List<(ImageFormat Format, int[] Row)> PrintMapping(string title, List<Point> points, ImageFormat[] formats)
    {
        var rows = new List<(ImageFormat, int[])>();
        if (points.Count == 0)
        {
            return rows;
        }

        int images = points.Select(p => (p.Image, p.Width)).Distinct().Count();
        Console.WriteLine();
        Console.WriteLine($"## Mapping, {title} ({images} image x width cases): JPEG q -> encoder q with the same median distance");
        Console.WriteLine("(bytes: median over images of the format's bytes at that encoder quality / JPEG's bytes at q, interpolated; '>' = JPEG's distance is not reached even at 100)");
        Console.WriteLine("| JPEG q | JPEG median distance | " + string.Join(" | ", formats.Skip(1).Select(f => $"{ImageFormats.Name(f)} q (bytes vs jpg)")) + " |");
        Console.WriteLine("|---|---|" + string.Concat(formats.Skip(1).Select(_ => "---|")));
        var mapped = formats.Skip(1).ToDictionary(f => f, _ => new List<int>());
        foreach (int q in TestImages.JpegQualities)
        {
            var jpeg = points.Where(p => p.Format == ImageFormat.Jpeg && p.Quality == q).ToList();
            double target = TestImages.Median(jpeg.Select(p => p.Distance));
            var cells = new List<string>();
            foreach (ImageFormat format in formats.Skip(1))
            {
                (double encoderQuality, bool reached) = Match(points, format, target);
                int rounded = (int)Math.Round(encoderQuality, MidpointRounding.AwayFromZero);
                mapped[format].Add(rounded);
                double ratio = TestImages.Median(jpeg.Select(j => BytesAt(points, j.Image, j.Width, format, encoderQuality) / j.Bytes));
                cells.Add($"{(reached ? "" : ">")}{rounded} ({ratio:P0})");
            }

            Console.WriteLine($"| {q} | {target:F4} | {string.Join(" | ", cells)} |");
        }

        foreach (var (format, row) in mapped)
        {
            // A table that falls where JPEG's distance rises would be a measurement artefact: keep it non-decreasing.
            for (int i = 1; i < row.Count; i++)
            {
                row[i] = Math.Max(row[i], row[i - 1]);
            }

            rows.Add((format, row.ToArray()));
        }

        return rows;
    }

    /// <summary>
    /// The encoder quality whose median distance equals <paramref name="target"/>, linear between measured qualities.
    /// The median curve is made non-increasing first (a running minimum), since noise can make it wobble.
    /// </summary>
    private static (double Quality, bool Reached) Match(List<Point> points, ImageFormat format, double target)
    {
        int[] qualities = TestImages.EncoderQualities(format);
        double[] medians = qualities.Select(q => TestImages.Median(points.Where(p => p.Format == format && p.Quality == q).Select(p => p.Distance))).ToArray();
        for (int i = 1; i < medians.Length; i++)
        {
            medians[i] = Math.Min(medians[i], medians[i - 1]);
        }

        if (medians[0] <= target)
        {
            return (qualities[0], true);
        }

        for (int i = 1; i < qualities.Length; i++)
        {
            if (medians[i] <= target)
            {
                double fraction = (medians[i - 1] - target) / (medians[i - 1] - medians[i]);
                return (qualities[i - 1] + (fraction * (qualities[i] - qualities[i - 1])), true);
            }
        }

        return (qualities[^1], false);
    }

    /// <summary>One image's bytes at a fractional encoder quality, linear between the measured qualities.</summary>
    private static double BytesAt(List<Point> points, string image, int width, ImageFormat format, double quality)
    {
        var curve = points.Where(p => p.Image == image && p.Width == width && p.Format == format).OrderBy(p => p.Quality).ToList();
        int above = curve.FindIndex(p => p.Quality >= quality);
        if (above <= 0)
        {
            return curve[Math.Max(0, above)].Bytes;
        }

        Point low = curve[above - 1], high = curve[above];
        return low.Bytes + ((quality - low.Quality) / (high.Quality - low.Quality) * (high.Bytes - low.Bytes));
    }
}

/// <summary>
/// score: every output in --outputs (jpg, webp, avif, heic, jxl) against its source in --corpus (same file name stem),
/// resized the same way; per format the median bytes and median distance, over all images, over the photos and over
/// the opaque sources (those JPEG can represent), and how many files are smaller than their jpg.
/// Prints one line per output, then one JSON line (bench/bench.mjs reads it).
/// </summary>
internal static class Scoring
{
    public static void Run(Options options)
    {
        string outputs = options.Outputs ?? throw new ArgumentException("score needs --outputs FOLDER");
        var sources = Directory.GetFiles(options.Corpus).GroupBy(Path.GetFileNameWithoutExtension).ToDictionary(g => g.Key!, g => g.ToList(), StringComparer.Ordinal);
        var photoStems = new HashSet<string>(TestImages.Photos.Select(Path.GetFileNameWithoutExtension)!, StringComparer.Ordinal);
        var transparent = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var results = new ConcurrentBag<(string Format, string Stem, int Bytes, double Distance)>();
        var files = Directory.GetFiles(outputs, "*", SearchOption.AllDirectories)
            .Where(f => ImageFormats.TryParse(Path.GetExtension(f).TrimStart('.'), out ImageFormat format) && format is ImageFormat.Jpeg or ImageFormat.Webp or ImageFormat.Avif or ImageFormat.Heic or ImageFormat.Jxl)
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToList();
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = options.Parallel }, file =>
        {
            string stem = Path.GetFileNameWithoutExtension(file);
            if (!sources.TryGetValue(stem, out var candidates) || candidates.Count != 1)
            {
                Console.Error.WriteLine($"score: {file}: no single source named {stem}.* in {options.Corpus}; skipped");
                return;
            }

            ImageFormat format = TestImages.ParseFormat(Path.GetExtension(file).TrimStart('.'));
            byte[] bytes = File.ReadAllBytes(file);
            using Image decoded = TestImages.Decode(bytes, format);
            using Image reference = TestImages.Reference(candidates[0], decoded.Width);
            if (reference.Width != decoded.Width || reference.Height != decoded.Height)
            {
                Console.Error.WriteLine($"score: {file} is {decoded.Width}x{decoded.Height}, its resized source {reference.Width}x{reference.Height}; skipped");
                return;
            }

            double distance = SmartQuality.Distance(reference, decoded);
            bool seeThrough = transparent.GetOrAdd(stem, _ => TestImages.IsTransparent(candidates[0]));
            results.Add((ImageFormats.Name(format), stem, bytes.Length, distance));
            Console.Error.WriteLine($"{ImageFormats.Name(format),-5} {stem,-44} {decoded.Width}x{decoded.Height} {bytes.Length,9} B  distance {distance:F4}{(seeThrough ? "  (transparent source)" : "")}");
        });

        // Medians of bytes over a set compare the middle files of each format, which need not be the same images; the
        // median of each image's bytes against its own jpg compares like with like.
        var jpegBytes = results.Where(r => r.Format == "jpg").ToDictionary(r => r.Stem, r => (double)r.Bytes, StringComparer.Ordinal);
        object Summary(IEnumerable<(string Format, string Stem, int Bytes, double Distance)> set)
        {
            var list = set.ToList();
            var withJpg = list.Where(r => jpegBytes.ContainsKey(r.Stem)).ToList();
            return new
            {
                count = list.Count,
                medianBytes = TestImages.Median(list.Select(r => (double)r.Bytes)),
                medianDistance = TestImages.Median(list.Select(r => r.Distance)),
                medianRatioToJpg = TestImages.Median(withJpg.Select(r => r.Bytes / jpegBytes[r.Stem])),
                // "smaller than jpg in N of M files": M is the files that have a jpg to compare with.
                smallerThanJpg = withJpg.Count(r => r.Bytes < jpegBytes[r.Stem]),
                comparedWithJpg = withJpg.Count,
            };
        }

        var summary = results.GroupBy(r => r.Format).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(
            g => g.Key,
            g => new
            {
                all = Summary(g),
                photos = Summary(g.Where(r => photoStems.Contains(r.Stem))),
                opaque = Summary(g.Where(r => !transparent[r.Stem])),
            });
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            photos = TestImages.Photos,
            transparent = transparent.Where(t => t.Value).Select(t => t.Key).OrderBy(k => k, StringComparer.Ordinal),
            formats = summary,
        }));
    }
}
