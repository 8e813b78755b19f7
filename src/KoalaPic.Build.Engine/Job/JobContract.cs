using System;
using System.Collections.Generic;
using System.Linq;

namespace KoalaPic.Build.Engine;

/// <summary>
/// One build's image job as a host hands it over, raw: the KoalaImage items as written (spec and metadata), the
/// KoalaPic* properties as strings, and the project's folders. <see cref="ImageJob"/> takes it in process; the koalapic
/// process takes the same object as JSON. Nothing in it has been parsed or checked yet.
/// </summary>
public sealed class JobInput
{
    public List<JobItem> Items { get; set; } = new();

    private Dictionary<string, string> properties = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The KoalaPic* properties by name (<see cref="JobSettings.PropertyNames"/>), as MSBuild evaluated them; "" or absent for the default.</summary>
    public Dictionary<string, string> Properties
    {
        get => properties;
        set => properties = new Dictionary<string, string>(value, StringComparer.OrdinalIgnoreCase); // names ignore case, as in MSBuild, also after JSON
    }

    /// <summary>The project folder: relative item paths and default destinations are resolved against it.</summary>
    public string ProjectDirectory { get; set; } = "";

    /// <summary>The project file, which diagnostics about item metadata and properties point at.</summary>
    public string ProjectFile { get; set; } = "";

    /// <summary>Where this project's outputs and state live (obj/…/koalapic/).</summary>
    public string IntermediateDirectory { get; set; } = "";

    /// <summary>The content-addressed cache (KoalaPicCacheDir), absolute or relative to the project.</summary>
    public string CacheDirectory { get; set; } = "";

    /// <summary>
    /// obj/ (BaseIntermediateOutputPath), absolute or relative to the project: the default cache inside it must stay
    /// inside its real path (no planted link on the way); empty to skip that check.
    /// </summary>
    public string BaseIntermediateDirectory { get; set; } = "";

    /// <summary>The build output folder (OutDir), absolute or relative to the project; empty when unknown.</summary>
    public string OutputDirectory { get; set; } = "";

    /// <summary>The URL prefix of the project's static web assets ($(StaticWebAssetBasePath)), put in front of the manifest's URLs.</summary>
    public string UrlBasePath { get; set; } = "";

    /// <summary>The project's own files that may declare KoalaImage items, for <see cref="DeclaredPatterns"/>.</summary>
    public List<string> DeclaringFiles { get; set; } = new();

    /// <summary>Where libvips and ImageMagick are loaded from (the NuGet folder); null for the runtime's own probing.</summary>
    public NativeLocations? Natives { get; set; }
}

/// <summary>A KoalaImage item: its Include and the metadata KoalaPic reads (<see cref="ImageRequest.MetadataNames"/>).</summary>
public sealed class JobItem
{
    public string ItemSpec { get; set; } = "";

    private Dictionary<string, string> metadata = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, string> Metadata
    {
        get => metadata;
        set => metadata = new Dictionary<string, string>(value, StringComparer.OrdinalIgnoreCase); // names ignore case, as in MSBuild, also after JSON
    }

    /// <summary>A metadata value, or "" when the item does not set it.</summary>
    public string Get(string name) => Metadata.TryGetValue(name, out string? value) ? value ?? "" : "";

    /// <summary>Whether converting this item needs the native ImageMagick library, judged from its metadata and name (see <see cref="ImageMagickNeed"/>).</summary>
    public bool NeedsImageMagick() => ImageMagickNeed.For(ItemSpec, Get);

    /// <param name="metadata">Reads one metadata value of the host's item (MSBuild's ITaskItem.GetMetadata).</param>
    public static JobItem From(string itemSpec, Func<string, string> metadata) => new()
    {
        ItemSpec = itemSpec,
        Metadata = ImageRequest.MetadataNames
            .Select(name => (Name: name, Value: metadata(name)))
            .Where(m => !string.IsNullOrEmpty(m.Value))
            .ToDictionary(m => m.Name, m => m.Value, StringComparer.OrdinalIgnoreCase),
    };
}

/// <summary>How much a log line matters, as MSBuild's message importance.</summary>
public enum JobLogLevel
{
    Low,
    Normal,
    High,
}

/// <summary>A line for the build log that is not a diagnostic: progress, downloads, deletions, the summary.</summary>
public sealed record JobLog(JobLogLevel Level, string Text);

/// <summary>An output file for the host to deploy (MSBuild copies it to bin/ and publish/ at TargetPath).</summary>
public sealed record JobOutput(string File, string TargetPath, string ItemSpec, string Format, int? Width, int? Height);

/// <summary>What the job did, for the host to log and deploy; report.json, the manifest and the ZIP are already written.</summary>
public sealed class JobResult
{
    /// <summary>Every error and warning, in item order, ready to log.</summary>
    public List<Diagnostic> Diagnostics { get; set; } = new();

    public List<JobOutput> Outputs { get; set; } = new();

    /// <summary>The images the batch had (variants of Widths and Format lists counted), as in the summary line.</summary>
    public int ImageCount { get; set; }

    /// <summary>Lines to log after the diagnostics: deletions, the summary, the ZIP.</summary>
    public List<JobLog> Log { get; set; } = new();

    /// <summary>Files written outside obj/ (KoalaPicReportPath, KoalaPicZipPath), for Clean.</summary>
    public List<string> WrittenFiles { get; set; } = new();

    /// <summary>The build was cancelled: finished outputs are kept, the rest is converted by the next build.</summary>
    public bool Cancelled { get; set; }

    public bool Succeeded => !Cancelled && !Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);
}
