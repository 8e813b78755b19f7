using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
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

    [Output] public ITaskItem[] ConverterOutputs { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>True when the converter must run; false when the last run's record stands (its warnings were logged again).</summary>
    [Output] public bool ConverterNeeded { get; set; }

    /// <summary>True when an item needs ImageMagick (KoalaPicImageMagick=auto downloads it then), from the format descriptors.</summary>
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
        NeedsImageMagick = Images.Any(i => ImageMagickNeed.For(i.ItemSpec, i.GetMetadata));

        var sources = new Sources();
        WriteInputs(layout.InputsFile, cache, sources);
        LastRun? record = LastRun.TryRead(layout.LastRunFile);
        var outputs = new List<ITaskItem>();
        bool outputRefused = false;
        foreach (JobOutput output in record?.Outputs ?? new List<JobOutput>())
        {
            ITaskItem? item = TaskItems.Output(output, ProjectDirectory, OutputDirectory, out Diagnostic? problem);
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
        ConverterInputs = Images.Where(i => !IsUrlItem(i))
            .Concat(new[] { TaskItems.FileItem(layout.InputsFile) })
            .Concat(RunInputs)
            .ToArray();
        ConverterOutputs = (ConverterNeeded ? new[] { layout.StampFile, layout.NeverFile } : new[] { layout.StampFile })
            .Select(f => (ITaskItem)TaskItems.FileItem(f)).ToArray();

        if (ConverterNeeded)
        {
            Log.LogMessage(MessageImportance.Low, $"KoalaPic: the converter runs: {reason}.");
        }
        else
        {
            Replay(record!);
        }

        return true;
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

        // Outputs keep their time when their bytes do not change, so they are checked for existence, not for age.
        string? missing = record.Outputs.Select(o => o.File)
            .Concat(Images.Length > 0 ? record.WrittenFiles.Concat(new[] { layout.ManifestFile }) : Enumerable.Empty<string>())
            .FirstOrDefault(f => !File.Exists(f));
        if (missing != null)
        {
            return $"'{missing}' is missing";
        }

        if (OutputThroughLink(record) is string linked)
        {
            // The engine refuses it with KP3002; no output item may let MSBuild copy through it.
            return $"the folder of '{linked}' in the output folder is now a link leading outside it";
        }

        var stamp = new FileInfo(layout.StampFile);
        if (!stamp.Exists)
        {
            return "the last run did not end well (no stamp)";
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

    /// <summary>A TargetPath of the last run whose folder in OutDir is now a link leading outside it, or null.</summary>
    private string? OutputThroughLink(LastRun record)
    {
        if (OutputDirectory.Trim().Length == 0 || record.Outputs.Count == 0)
        {
            return null;
        }

        var deployed = new OwnedFolder(Path.Combine(ProjectDirectory, OutputDirectory));
        // One check per folder: 1,000 outputs in img/ are one walk.
        foreach (var folder in record.Outputs.GroupBy(o => Path.GetDirectoryName(o.TargetPath) ?? "", StringComparer.Ordinal))
        {
            if (deployed.TryResolve(Path.Combine(folder.Key, "_")) == null)
            {
                return folder.First().TargetPath;
            }
        }

        return null;
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
    private void WriteInputs(string file, string cache, Sources sources)
    {
        var text = new StringBuilder();
        text.Append("# KoalaPic: what the conversion depends on besides the sources' bytes. Written only when it changes.\n");
        text.Append("cache=").Append(cache).Append('\n');
        foreach (string value in Values)
        {
            text.Append(value).Append('\n');
        }

        foreach (ITaskItem property in Properties)
        {
            text.Append(property.ItemSpec).Append('=').Append(property.GetMetadata("Value")).Append('\n');
        }

        foreach (ITaskItem item in Images)
        {
            text.Append("item ").Append(item.ItemSpec).Append('\n');
            IDictionary metadata = item.CloneCustomMetadata();
            foreach (string name in metadata.Keys.Cast<string>().OrderBy(n => n, StringComparer.OrdinalIgnoreCase))
            {
                text.Append("  ").Append(name).Append('=').Append(UrlSource.Redact(metadata[name]?.ToString() ?? "")).Append('\n');
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
                    text.Append("  source ").Append(info.Length.ToString(CultureInfo.InvariantCulture)).Append(' ')
                        .Append(info.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture)).Append('\n');
                    sources.NewestWriteUtc = info.LastWriteTimeUtc > sources.NewestWriteUtc ? info.LastWriteTimeUtc : sources.NewestWriteUtc;
                }
                else
                {
                    text.Append("  source missing\n");
                    sources.Missing ??= item.ItemSpec;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                text.Append("  source unreadable\n");
                sources.Missing ??= item.ItemSpec;
            }
        }

        byte[] bytes = Encoding.UTF8.GetBytes(text.ToString());
        try
        {
            if (!AtomicFile.HasContent(file, bytes))
            {
                AtomicFile.Write(file, bytes);
                sources.NewestWriteUtc = DateTime.MaxValue; // the inputs file is newer than any stamp now
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not fatal: without the file the convert target runs (a missing input), and the engine decides what is up to date.
            Log.LogMessage(MessageImportance.Low, $"KoalaPic: cannot write '{file}': {ex.Message}");
            AtomicFile.TryDelete(file);
            sources.Missing ??= file;
        }
    }
}
