using System;
using System.Buffers.Binary;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using KoalaPic.Build.Engine;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace KoalaPic.Build.Tasks;

/// <summary>
/// Prepares a build's image job, without loading libvips: hands the targets every path of the job folder
/// (<see cref="JobLayout"/>), writes the inputs file (only when it changed), decides whether the converter must run,
/// and hands the targets the Inputs/Outputs of the convert target and the last run's output items
/// (<see cref="LastRun"/>). When the converter is not needed it logs the last run's warnings and summary again, so a
/// build where nothing changed looks like the run it skips.
/// </summary>
/// <remarks>
/// The decision follows MSBuild's own rule for the Inputs/Outputs it hands over (run when an input is missing or newer
/// than the stamp); when it says "run" it adds a file that never exists to the Outputs, so MSBuild runs the target too.
/// Every build runs this task over every item, so its no-op path is kept lean (docs/performance.md, issue 19): no text of
/// the items is made, no engine table is built, and no file is checked twice.
/// </remarks>
public sealed class PrepareKoalaPicRun : Task
{
    [Required] public ITaskItem[] Images { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The project folder, against which item paths and the folders below are resolved.</summary>
    [Required] public string ProjectDirectory { get; set; } = "";

    /// <summary>$(IntermediateOutputPath) (obj/Debug/net10.0/): the job folder is koalapic/ in it.</summary>
    [Required] public string IntermediateOutputPath { get; set; } = "";

    /// <summary>$(BaseIntermediateOutputPath) (obj/): the default cache is koalapic/cache/ in it.</summary>
    public string BaseIntermediateOutputPath { get; set; } = "obj";

    /// <summary>$(KoalaPicCacheDir); empty for the default cache.</summary>
    public string CacheDirectory { get; set; } = "";

    /// <summary>$(OutDir), where the outputs are copied: its folders on the last outputs' way are checked for links.</summary>
    public string OutputDirectory { get; set; } = "";

    /// <summary>The KoalaPic* properties ConvertKoalaImages receives (ItemSpec the name, Value the value).</summary>
    public ITaskItem[] Properties { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>Other settings as name=value, written to the inputs file so that a change makes the converter run.</summary>
    public string[] Values { get; set; } = Array.Empty<string>();

    /// <summary>Files besides the sources whose change makes the converter run: the task assembly, the project files.</summary>
    public ITaskItem[] RunInputs { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>$(KoalaPicIncremental): "false" makes the converter always run.</summary>
    public string Incremental { get; set; } = "";

    /// <summary>$(KoalaPicStaticWebAssets): "true" asks for <see cref="ContentTypes"/>.</summary>
    public bool StaticWebAssets { get; set; }

    [Output] public string JobDirectory { get; set; } = "";

    /// <summary>The outputs' folder in the job folder (out/): static web assets' content root is its wwwroot/.</summary>
    [Output] public string JobOutputDirectory { get; set; } = "";

    /// <summary>KoalaPicCacheDir, or the default cache, as a full path.</summary>
    [Output] public string ResolvedCacheDirectory { get; set; } = "";

    /// <summary>The default cache when the project uses it (Clean removes it); empty for a KoalaPicCacheDir of the user's own.</summary>
    [Output] public string DefaultCacheDirectory { get; set; } = "";

    [Output] public string ManifestFile { get; set; } = "";

    [Output] public string ServedDirectory { get; set; } = "";

    [Output] public string ServedManifestFile { get; set; } = "";

    [Output] public string StampFile { get; set; } = "";

    [Output] public string NativesRestoreDirectory { get; set; } = "";

    /// <summary>The last run's outputs, as ConvertKoalaImages returned them.</summary>
    [Output] public ITaskItem[] LastOutputs { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The last run's report and ZIP (KoalaPicReportPath, KoalaPicZipPath), for FileWrites.</summary>
    [Output] public ITaskItem[] LastWrittenFiles { get; set; } = Array.Empty<ITaskItem>();

    [Output] public ITaskItem[] ConverterInputs { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>
    /// With <see cref="StaticWebAssets"/>, one item per output format, as the SDK's StaticWebAssetContentTypeMapping:
    /// the MIME type (<see cref="FormatDescriptor.MimeType"/>) and its Pattern (<c>*.avif</c>). The SDK maps no content
    /// type for some of them (avif, heic, jxl when this was written).
    /// </summary>
    [Output] public ITaskItem[] ContentTypes { get; set; } = Array.Empty<ITaskItem>();

    [Output] public ITaskItem[] ConverterOutputs { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>True when the converter must run; false when the last run's record stands (its warnings were logged again).</summary>
    [Output] public bool ConverterNeeded { get; set; }

    /// <summary>True when the converter runs and an item needs ImageMagick (KoalaPicImageMagick=auto downloads it then), from the format descriptors.</summary>
    [Output] public bool NeedsImageMagick { get; set; }

    public override bool Execute()
    {
        JobLayout layout = JobLayout.For(ProjectDirectory, IntermediateOutputPath);
        string defaultCache = JobLayout.DefaultCacheDirectory(ProjectDirectory, BaseIntermediateOutputPath);
        string cache = CacheDirectory.Trim().Length == 0
            ? defaultCache
            : Path.GetFullPath(Path.Combine(ProjectDirectory, CacheDirectory.Trim())).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar) + Path.DirectorySeparatorChar;

        JobDirectory = layout.Directory;
        JobOutputDirectory = layout.OutputDirectory;
        ResolvedCacheDirectory = cache;
        DefaultCacheDirectory = JobLayout.SameDirectory(cache, defaultCache) ? defaultCache : "";
        ManifestFile = layout.ManifestFile;
        ServedDirectory = layout.ServedDirectory;
        ServedManifestFile = layout.ServedManifestFile;
        StampFile = layout.StampFile;
        NativesRestoreDirectory = layout.NativesRestoreDirectory;

        ContentTypes = StaticWebAssets ? ImageFormats.All.Select(ContentType).ToArray() : Array.Empty<ITaskItem>();

        var sources = new Sources();
        WriteInputs(layout.InputsFile, cache, sources);
        LastRun? record = LastRun.TryRead(layout.LastRunFile);
        var outputs = new List<ITaskItem>();
        bool outputRefused = false;
        string? outputRoot = TaskItems.OutputRoot(ProjectDirectory, OutputDirectory);
        foreach (JobOutput output in record?.Outputs ?? new List<JobOutput>())
        {
            ITaskItem? item = TaskItems.Output(output, ProjectDirectory, outputRoot, out Diagnostic? problem);
            outputRefused |= problem != null;
            if (item != null)
            {
                outputs.Add(item);
            }
        }

        LastOutputs = outputs.ToArray();
        LastWrittenFiles = (record?.WrittenFiles ?? new List<string>()).Select(f => (ITaskItem)TaskItems.FileItem(f)).ToArray();

        string? reason = RunReason(layout, record, sources, outputRefused);
        ConverterNeeded = reason != null;
        // Up to date, the target gets the inputs file alone (older than the stamp): every source was just compared with
        // the stamp here, and MSBuild would stat them all again.
        ConverterInputs = ConverterNeeded
            ? Images.Where(i => !IsUrlItem(i)).Concat(new[] { TaskItems.FileItem(layout.InputsFile) }).Concat(RunInputs).ToArray()
            : new ITaskItem[] { TaskItems.FileItem(layout.InputsFile) };
        ConverterOutputs = (ConverterNeeded ? new[] { layout.StampFile, layout.NeverFile } : new[] { layout.StampFile })
            .Select(f => (ITaskItem)TaskItems.FileItem(f)).ToArray();

        if (ConverterNeeded)
        {
            // Only a run loads natives: a build that skips it does not judge (nor download) them.
            NeedsImageMagick = ImageMagickNeed.ForAny(Images, i => i.ItemSpec, (i, name) => i.GetMetadata(name));
            Log.LogMessage(MessageImportance.Low, $"KoalaPic: the converter runs: {reason}.");
        }
        else
        {
            Replay(record!);
        }

        return true;
    }

    private static ITaskItem ContentType(FormatDescriptor format)
    {
        TaskItem item = TaskItems.FileItem(format.MimeType);
        item.SetMetadata("Pattern", TaskItems.Escape("*" + format.Extension));
        return item;
    }

    /// <summary>The last run's warnings and summary, for a build that does not run the converter.</summary>
    private void Replay(LastRun record)
    {
        foreach (Diagnostic warning in record.Warnings)
        {
            TaskItems.Log(Log, warning);
        }

        if (Images.Length > 0)
        {
            Log.LogMessage(MessageImportance.High, BatchLog.SkippedSummaryLine(record.ImageCount));
        }
    }

    /// <summary>Why the converter must run, or null when the last run's record stands.</summary>
    private string? RunReason(JobLayout layout, LastRun? record, Sources sources, bool outputRefused)
    {
        if (Incremental.Trim().Equals("false", StringComparison.OrdinalIgnoreCase))
        {
            return "KoalaPicIncremental is false";
        }

        if (record == null)
        {
            return "there is no record of a last run";
        }

        if (sources.HasUnpinnedUrl)
        {
            // Its bytes can change with nothing local changing.
            return "an item has a Url without Sha256";
        }

        if (outputRefused)
        {
            return "an output of the last run could not be handed to MSBuild";
        }

        var stamp = new FileInfo(layout.StampFile);
        if (!stamp.Exists)
        {
            return "the last run did not end well (no stamp)";
        }

        if (MissingOutput(layout, record) is string missing)
        {
            return $"'{missing}' is missing";
        }

        if (OutputThroughLink(record) is string linked)
        {
            // The engine refuses it with KP3002; no output item may let MSBuild copy through it.
            return $"the folder of '{linked}' in the output folder is now a link leading outside it";
        }

        // MSBuild's rule for Inputs/Outputs: an input that is missing, or newer than the oldest output.
        DateTime stampTime = stamp.LastWriteTimeUtc;
        if (sources.Missing != null)
        {
            return $"the source '{sources.Missing}' does not exist";
        }

        if (sources.NewestWriteUtc > stampTime)
        {
            return "a source or a setting changed";
        }

        foreach (ITaskItem input in RunInputs)
        {
            var info = new FileInfo(Path.Combine(ProjectDirectory, input.ItemSpec));
            if (!info.Exists || info.LastWriteTimeUtc > stampTime)
            {
                return $"'{info.FullName}' changed";
            }
        }

        return null;
    }

    /// <summary>An output (or report, ZIP, manifest) of the last run that no longer exists, or null.</summary>
    /// <remarks>
    /// Outputs keep their time when their bytes do not change, so they are checked for existence, not for age. The
    /// engine writes the record after the outputs, and a folder gets a new time whenever an entry in it is added,
    /// removed or renamed: a folder older than the record holds every output the record lists there, without asking
    /// for each (1,000 outputs in img/ are one look). A folder touched since, or as old, is checked file by file.
    /// </remarks>
    private string? MissingOutput(JobLayout layout, LastRun record)
    {
        DateTime recordTime = File.GetLastWriteTimeUtc(layout.LastRunFile);
        var unchanged = new FolderVerdicts(folder =>
        {
            var info = new DirectoryInfo(folder.Length > 0 ? folder : ".");
            return info.Exists && info.LastWriteTimeUtc < recordTime;
        });
        foreach (JobOutput output in record.Outputs)
        {
            if (!unchanged.Of(output.File) && !File.Exists(output.File))
            {
                return output.File;
            }
        }

        return Images.Length > 0 ? record.WrittenFiles.Concat(new[] { layout.ManifestFile }).FirstOrDefault(f => !File.Exists(f)) : null;
    }

    /// <summary>A TargetPath of the last run whose folder in OutDir is now a link leading outside it, or null.</summary>
    private string? OutputThroughLink(LastRun record)
    {
        if (OutputDirectory.Trim().Length == 0 || record.Outputs.Count == 0)
        {
            return null;
        }

        var deployed = new OwnedFolder(Path.Combine(ProjectDirectory, OutputDirectory));
        // One check per folder: 1,000 outputs in img/ are one walk.
        var inside = new FolderVerdicts(folder => deployed.TryResolve(Path.Combine(folder, "_")) != null);
        foreach (JobOutput output in record.Outputs)
        {
            if (!inside.Of(output.TargetPath))
            {
                return output.TargetPath;
            }
        }

        return null;
    }

    /// <summary>A verdict on a path's folder, reached once per folder.</summary>
    /// <remarks>A run writes the outputs of a folder one after another: a path is compared in place with the one before,
    /// and a folder name is made only when the folder changes, not for each of 1,000 outputs.</remarks>
    private sealed class FolderVerdicts
    {
        private static readonly char[] Separators = { Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar };
        private readonly Func<string, bool> judge;
        private readonly Dictionary<string, bool> verdicts = new(StringComparer.Ordinal);
        private string? previous;
        private bool verdict;

        public FolderVerdicts(Func<string, bool> judge) => this.judge = judge;

        public bool Of(string path)
        {
            if (previous == null || !SameFolder(path, previous))
            {
                string folder = Path.GetDirectoryName(path) ?? "";
                if (!verdicts.TryGetValue(folder, out verdict))
                {
                    verdicts[folder] = verdict = judge(folder);
                }

                previous = path;
            }

            return verdict;
        }

        private static bool SameFolder(string a, string b)
        {
            int end = a.LastIndexOfAny(Separators);
            return end == b.LastIndexOfAny(Separators) && string.CompareOrdinal(a, 0, b, 0, end + 1) == 0;
        }
    }

    private static bool IsUrlItem(ITaskItem item) => UrlSource.IsUrlItem(item.GetMetadata);

    /// <summary>What the sources' stamps say, gathered while the inputs file is written.</summary>
    private sealed class Sources
    {
        public DateTime NewestWriteUtc { get; set; } = DateTime.MinValue;

        public string? Missing { get; set; }

        public bool HasUnpinnedUrl { get; set; }
    }

    /// <summary>
    /// Writes what a conversion depends on besides the bytes of the sources, only when it changed: every item with all
    /// its metadata (a Url's credentials masked), its source's size and last write time, and the settings.
    /// </summary>
    /// <remarks>
    /// A build where nothing changed must not pay for the text of 1,000 items: it hashes the same lines as they are
    /// made (no text is kept) and compares the hash with the one in the file's first line, which is all it reads. Only
    /// when they differ is the text made again and written. Large strings and byte arrays would land on the large object
    /// heap and bring a full collection of MSBuild's heap into the build, which costs more than the rest of this task.
    /// </remarks>
    private void WriteInputs(string file, string cache, Sources sources)
    {
        using var fingerprint = new Fingerprint();
        AddInputs(cache, sources, fingerprint);
        string header = "# KoalaPic: what the conversion depends on besides the sources' bytes. Written only when it changes. Fingerprint "
            + ContentKey.ToHex(fingerprint.Finish()) + "\n";
        if (StartsWith(file, Encoding.UTF8.GetBytes(header)))
        {
            return;
        }

        var text = new InputsText(header);
        AddInputs(cache, new Sources(), text);
        byte[] bytes = Encoding.UTF8.GetBytes(text.ToString());
        try
        {
            AtomicFile.Write(file, bytes);
            sources.NewestWriteUtc = DateTime.MaxValue; // the inputs file is newer than any stamp now
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not fatal: without the file the convert target runs (a missing input), and the engine decides what is up to date.
            Log.LogMessage(MessageImportance.Low, $"KoalaPic: cannot write '{file}': {ex.Message}");
            AtomicFile.TryDelete(file);
            sources.Missing ??= file;
        }
    }

    /// <summary>The lines of the inputs file after its first, handed to <paramref name="sink"/> in pieces; gathers the sources' stamps.</summary>
    /// <remarks>
    /// Optimised at once (AggressiveOptimization), as the hash below: the task runs once per build, too few calls for
    /// .NET's tiered compilation to optimise this loop over 1,000 items. In a node that stays up between builds, a run of
    /// the task took 41 ms of CPU with it unoptimised, 16 ms with it optimised (docs/performance.md). The metadata come
    /// in MSBuild's own order, which is the same for an unchanged project: no names are sorted.
    /// </remarks>
    [MethodImpl(OptimizedAtOnce)]
    private void AddInputs(string cache, Sources sources, IInputsSink sink)
    {
        // A line in pieces, not joined: 1,000 items make no strings.
        [MethodImpl(OptimizedAtOnce)]
        void Line(string a, string b = "", string c = "", string d = "")
        {
            sink.Text(a);
            sink.Text(b);
            sink.Text(c);
            sink.Text(d);
            sink.Text("\n");
        }

        Line("cache=", cache);
        foreach (string value in Values)
        {
            Line(value);
        }

        foreach (ITaskItem property in Properties)
        {
            Line(property.ItemSpec, "=", property.GetMetadata("Value"));
        }

        foreach (ITaskItem item in Images)
        {
            Line("item ", item.ItemSpec);
            foreach (DictionaryEntry metadata in item.CloneCustomMetadata())
            {
                Line("  ", (string)metadata.Key, "=", UrlSource.Redact(metadata.Value?.ToString() ?? ""));
            }

            if (IsUrlItem(item))
            {
                sources.HasUnpinnedUrl |= item.GetMetadata(UrlSource.Sha256Metadata).Trim().Length == 0;
                continue;
            }

            try
            {
                var info = new FileInfo(Path.Combine(ProjectDirectory, item.ItemSpec));
                if (info.Exists)
                {
                    sink.Text("  source ");
                    sink.Number(info.Length);
                    sink.Text(" ");
                    sink.Number(info.LastWriteTimeUtc.Ticks);
                    sink.Text("\n");
                    sources.NewestWriteUtc = info.LastWriteTimeUtc > sources.NewestWriteUtc ? info.LastWriteTimeUtc : sources.NewestWriteUtc;
                }
                else
                {
                    Line("  source missing");
                    sources.Missing ??= item.ItemSpec;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                Line("  source unreadable");
                sources.Missing ??= item.ItemSpec;
            }
        }
    }

    /// <summary>Whether the file begins with <paramref name="prefix"/>; reads no more than that (false when it cannot be read).</summary>
    private static bool StartsWith(string file, byte[] prefix)
    {
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            var start = new byte[prefix.Length];
            int read = 0;
            for (int n; read < start.Length && (n = stream.Read(start, read, start.Length - read)) > 0;)
            {
                read += n;
            }

            return read == start.Length && start.AsSpan().SequenceEqual(prefix);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

#if NET
    private const MethodImplOptions OptimizedAtOnce = MethodImplOptions.AggressiveOptimization;
#else
    // .NET Framework (Visual Studio's MSBuild) has no tiered compilation: it optimises every method at once anyway.
    private const MethodImplOptions OptimizedAtOnce = 0;
#endif

    /// <summary>Where <see cref="AddInputs"/> hands the inputs: the fingerprint, or the text of the file.</summary>
    private interface IInputsSink
    {
        void Text(string piece);

        void Number(long value);
    }

    /// <summary>The SHA-256 of the inputs: text as UTF-16, numbers as their 8 bytes, gathered in a buffer (no string made for either).</summary>
    /// <remarks>
    /// The platform's SHA-256 (native code) rather than a managed hash: in a fresh MSBuild node a managed hash runs
    /// unoptimised (too few calls for tiered compilation), and this runs once per build over every item.
    /// </remarks>
    private sealed class Fingerprint : IInputsSink, IDisposable
    {
        private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly byte[] buffer = new byte[8192];
        private int used;

        [MethodImpl(OptimizedAtOnce)]
        public void Text(string piece)
        {
            ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(piece.AsSpan());
            while (bytes.Length > 0)
            {
                int n = Math.Min(bytes.Length, buffer.Length - used);
                bytes.Slice(0, n).CopyTo(buffer.AsSpan(used));
                used += n;
                bytes = bytes.Slice(n);
                if (used == buffer.Length)
                {
                    Flush();
                }
            }
        }

        [MethodImpl(OptimizedAtOnce)]
        public void Number(long value)
        {
            if (buffer.Length - used < sizeof(long))
            {
                Flush();
            }

            BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(used), value);
            used += sizeof(long);
        }

        public byte[] Finish()
        {
            Flush();
            return hash.GetHashAndReset();
        }

        public void Dispose() => hash.Dispose();

        private void Flush()
        {
            hash.AppendData(buffer, 0, used);
            used = 0;
        }
    }

    /// <summary>The inputs file's text, for a person who wants to see why the converter ran.</summary>
    private sealed class InputsText : IInputsSink
    {
        private readonly StringBuilder text;

        public InputsText(string header) => text = new StringBuilder(header);

        public void Text(string piece) => text.Append(piece);

        public void Number(long value) => text.Append(value.ToString(CultureInfo.InvariantCulture));

        public override string ToString() => text.ToString();
    }
}
