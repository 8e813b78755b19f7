using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using KoalaPic.Build.Engine;
using NetVips;

/// <summary>
/// compare: the outputs of several tools for the same responsive job (bench/run.sh's responsive row), each scored with
/// SmartQuality's SSIMULACRA distance against its source resized to the output's width. Outputs are named
/// <c>stem-480w.avif</c>; the width that counts is the decoded one (a source narrower than the width asked is kept at
/// its own width). There is one reference per source and width, prepared once and shared by every tool's output of
/// that width, so the tools are judged against the same image. Prints one line per output, then one JSON line.
/// </summary>
internal static class Comparison
{
    private static readonly Regex VariantName = new(@"^(?<stem>.+)-\d+w$", RegexOptions.CultureInvariant);

    private sealed record Output(string Tool, string File, string Stem, ImageFormat Format, int Width, int Height, long Bytes);

    private sealed record Scored(string Tool, string Format, string Stem, int Width, int Height, long Bytes, double? Distance, string? Problem);

    public static void Run(Options options, string[] args)
    {
        var tools = new List<(string Name, string Folder)>();
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            if (args[i] == "--tool")
            {
                string[] parts = args[i + 1].Split('=', 2);
                tools.Add(parts.Length == 2 ? (parts[0], Path.GetFullPath(parts[1])) : throw new ArgumentException($"--tool wants NAME=FOLDER, got '{args[i + 1]}'"));
            }
        }

        if (tools.Count == 0)
        {
            throw new ArgumentException("compare needs --corpus SOURCES and one --tool NAME=FOLDER per tool");
        }

        var sources = Directory.GetFiles(options.Corpus).GroupBy(Path.GetFileNameWithoutExtension)
            .ToDictionary(g => g.Key!, g => g.ToList(), StringComparer.Ordinal);
        var outputs = new List<Output>();
        var results = new ConcurrentBag<Scored>();
        foreach (var (tool, folder) in tools)
        {
            foreach (string file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal))
            {
                Match name = VariantName.Match(Path.GetFileNameWithoutExtension(file));
                if (!ImageFormats.TryParse(Path.GetExtension(file).TrimStart('.'), out ImageFormat format) || !name.Success)
                {
                    continue;
                }

                // The header gives the size without decoding a pixel.
                using Image header = Image.NewFromFile(file, access: Enums.Access.Sequential);
                outputs.Add(new Output(tool, file, name.Groups["stem"].Value, format, header.Width, header.Height, new FileInfo(file).Length));
            }
        }

        var groups = outputs.GroupBy(o => (o.Stem, o.Width)).OrderBy(g => g.Key.Stem, StringComparer.Ordinal).ThenBy(g => g.Key.Width).ToList();
        Parallel.ForEach(groups, new ParallelOptions { MaxDegreeOfParallelism = options.Parallel }, group =>
        {
            var (stem, width) = group.Key;
            if (!sources.TryGetValue(stem, out var candidates) || candidates.Count != 1)
            {
                foreach (Output o in group)
                {
                    results.Add(Unscored(o, $"no single source named {stem}.* in {options.Corpus}"));
                }

                return;
            }

            using Image reference = TestImages.Reference(candidates[0], width);
            using var prepared = new SmartQuality.PreparedReference(reference);
            foreach (Output o in group)
            {
                if (o.Height != reference.Height)
                {
                    results.Add(Unscored(o, $"{o.Width}x{o.Height}, its resized source {reference.Width}x{reference.Height}"));
                    continue;
                }

                using Image decoded = DecodeAsSeen(o);
                double distance = prepared.DistanceTo(decoded);
                results.Add(new Scored(o.Tool, ImageFormats.Name(o.Format), o.Stem, o.Width, o.Height, o.Bytes, distance, null));
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{o.Tool,-13} {ImageFormats.Name(o.Format),-5} {stem,-40} {o.Width,5}x{o.Height,-5} {o.Bytes,9} B  distance {distance:F4}"));
            }
        });

        var rows = results.OrderBy(r => r.Tool, StringComparer.Ordinal).ThenBy(r => r.Format, StringComparer.Ordinal)
            .ThenBy(r => r.Stem, StringComparer.Ordinal).ThenBy(r => r.Width).ToList();
        Console.WriteLine(JsonSerializer.Serialize(new { outputs = rows }));
    }

    private static Scored Unscored(Output o, string problem)
    {
        Console.Error.WriteLine($"compare: {o.File}: {problem}; not scored");
        return new Scored(o.Tool, ImageFormats.Name(o.Format), o.Stem, o.Width, o.Height, o.Bytes, null, problem);
    }

    /// <summary>
    /// The output as a browser shows it: an embedded colour profile applied (sharp's keepIccProfile leaves the source's
    /// profile on the pixels; the reference is sRGB), then decoded and flattened onto white as every score here is.
    /// </summary>
    private static Image DecodeAsSeen(Output output)
    {
        byte[] bytes = File.ReadAllBytes(output.File);
        using Image loaded = Image.NewFromBuffer(bytes, access: Enums.Access.Random, failOn: Enums.FailOn.Error);
        if (!loaded.Contains("icc-profile-data"))
        {
            return TestImages.Decode(bytes, output.Format);
        }

        using Image srgb = loaded.IccTransform("srgb", embedded: true, intent: Enums.Intent.Perceptual);
        using Image bare = srgb.Mutate(m => m.Remove("icc-profile-data"));
        return TestImages.Decode(bare.PngsaveBuffer(compression: 1), ImageFormat.Png);
    }
}
