using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using KoalaPic.Build.Engine;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace KoalaPic.Build.Tasks;

/// <summary>
/// Converts the KoalaImage items: items → validated requests → <see cref="ImageBatch"/> → output items and diagnostics.
/// All image work and all decisions about what is up to date live in the engine.
/// </summary>
public sealed class ConvertKoalaImages : Task, ICancelableTask
{
    private readonly CancellationTokenSource cancellation = new();

    [Required] public ITaskItem[] Images { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The project folder: relative item paths and default destinations are resolved against it.</summary>
    [Required] public string ProjectDirectory { get; set; } = "";

    /// <summary>The project file, which diagnostics about item metadata point at.</summary>
    public string ProjectFile { get; set; } = "";

    /// <summary>Where this project's outputs and state live (obj/…/koalapic/).</summary>
    [Required] public string IntermediateDirectory { get; set; } = "";

    /// <summary>The content-addressed cache (KoalaPicCacheDir).</summary>
    [Required] public string CacheDirectory { get; set; } = "";

    /// <summary>The build output folder (OutDir): a failed image's stale copy there is removed.</summary>
    public string OutputDirectory { get; set; } = "";

    /// <summary>KoalaPicMaxParallelism: images converted at once; empty or 0 means <see cref="ImageBatch.DefaultParallelism"/>.</summary>
    public string MaxParallelism { get; set; } = "";

    /// <summary>KoalaPicMaxPixels: the largest width × height accepted.</summary>
    public string MaxPixels { get; set; } = "";

    /// <summary>
    /// KoalaPicImageErrorsAsWarnings: "true" reports bad images (<see cref="DiagnosticCodes.BadImageCodes"/>) as
    /// warnings with the same codes, so the build succeeds; the bad images still get no output.
    /// </summary>
    public string ImageErrorsAsWarnings { get; set; } = "";

    /// <summary>KoalaPicOutOfProcess: convert in the koalapic process instead of inside MSBuild. Always so on .NET Framework MSBuild.</summary>
    public bool OutOfProcess { get; set; }

    /// <summary>The koalapic.dll that runs the engine out of process.</summary>
    public string EngineProcessPath { get; set; } = "";

    /// <summary>The dotnet executable that runs koalapic (MSBuild's DOTNET_HOST_PATH); empty means dotnet on PATH.</summary>
    public string DotNetHostPath { get; set; } = "";

    /// <summary>KoalaPicOffline: "true" forbids network access; Url items come from the download cache or fail with KP4010.</summary>
    public string Offline { get; set; } = "";

    /// <summary>KoalaPicRequirePinnedUrls: "true" makes a Url without Sha256 an error (KP4004) instead of a warning.</summary>
    public string RequirePinnedUrls { get; set; } = "";

    /// <summary>KoalaPicMaxDownloadBytes: the largest download accepted, in bytes (default 50 MB).</summary>
    public string MaxDownloadBytes { get; set; } = "";

    /// <summary>KoalaPicDownloadTimeout: seconds one download may take, from connecting to its last byte (default 60).</summary>
    public string DownloadTimeout { get; set; } = "";

    /// <summary>KoalaPicReportPath: a second place to write the job report, besides obj/…/koalapic/report.json.</summary>
    public string ReportPath { get; set; } = "";

    /// <summary>KoalaPicZipPath: where to write one ZIP of all outputs; empty for none.</summary>
    public string ZipPath { get; set; } = "";

    /// <summary>The URL prefix of this project's static web assets ($(StaticWebAssetBasePath): "/" in an app, "_content/MyLib" in a Razor class library), put in front of the manifest's URLs.</summary>
    public string UrlBasePath { get; set; } = "";

    /// <summary>The folder of libvips in the NuGet package folder (NetVips.Native.&lt;rid&gt;, downloaded by restore); empty to probe beside the task.</summary>
    public string LibvipsDirectory { get; set; } = "";

    /// <summary>The folder of Magick.Native in the NuGet package folder (a Magick.NET package, downloaded by restore when an item needs it).</summary>
    public string MagickDirectory { get; set; } = "";

    /// <summary>The build machine's RID the native folders were chosen for ($(NETCoreSdkRuntimeIdentifier)), for messages.</summary>
    public string HostRuntimeIdentifier { get; set; } = "";

    /// <summary>The converted files, with TargetPath (relative to the output folder) and KoalaPicSource metadata.</summary>
    [Output] public ITaskItem[] ConvertedImages { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>How many images the batch had (variants of Widths and Format lists counted), as in the summary line;
    /// the targets repeat it when a later build skips the converter.</summary>
    [Output] public int ImageCount { get; set; }

    public void Cancel() => cancellation.Cancel();

    public override bool Execute()
    {
        var diagnostics = new List<Diagnostic>();
        int parallelism = ParseProperty("KoalaPicMaxParallelism", MaxParallelism, 0, 0, 1024, diagnostics);
        long maxPixels = ParseProperty("KoalaPicMaxPixels", MaxPixels, ImageConverter.DefaultMaxPixels, 1, long.MaxValue, diagnostics);
        bool imageErrorsAsWarnings = ParseBool("KoalaPicImageErrorsAsWarnings", ImageErrorsAsWarnings, diagnostics);
        var downloads = new DownloadSettings
        {
            Offline = ParseBool("KoalaPicOffline", Offline, diagnostics),
            RequirePinned = ParseBool("KoalaPicRequirePinnedUrls", RequirePinnedUrls, diagnostics),
            MaxBytes = ParseProperty("KoalaPicMaxDownloadBytes", MaxDownloadBytes, DownloadSettings.DefaultMaxBytes, 1, long.MaxValue, diagnostics),
            TimeoutSeconds = ParseProperty("KoalaPicDownloadTimeout", DownloadTimeout, (long)DownloadSettings.DefaultTimeoutSeconds, 1, 86_400, diagnostics),
        };
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var requests = new List<ImageRequest>();

        // Variants from Widths: the ones the source is too narrow for are dropped after the batch (not enlarged).
        var widthVariants = new HashSet<ImageRequest>();

        // The report lists every item in item order: a batch result, or the metadata error that kept it out of the batch.
        var reportOrder = new List<(int Request, JobReportItem? Invalid)>();
        foreach (ITaskItem item in Images)
        {
            // A URL as Include gets KP4001 from the parser; it is no path to resolve (on Windows it would throw).
            string source = UrlSource.LooksLikeUrl(item.ItemSpec) ? item.ItemSpec : Path.GetFullPath(Path.Combine(ProjectDirectory, item.ItemSpec));
            var itemDiagnostics = new List<Diagnostic>();
            IReadOnlyList<ImageRequest>? variants = ImageVariants.TryCreate(item.ItemSpec, source, ProjectDirectory, item.GetMetadata, ProjectFile, itemDiagnostics);
            diagnostics.AddRange(itemDiagnostics);
            if (variants != null)
            {
                bool fromWidths = item.GetMetadata("Widths").Trim().Length > 0;
                foreach (ImageRequest request in variants)
                {
                    reportOrder.Add((requests.Count, null));
                    requests.Add(request);
                    if (fromWidths)
                    {
                        widthVariants.Add(request);
                    }
                }
            }
            else
            {
                string url = item.GetMetadata(UrlSource.UrlMetadata).Trim();
                reportOrder.Add((-1, JobReport.Invalid(item.ItemSpec, url.Length > 0 ? url : source, NullIfEmpty(item.GetMetadata("Format").Trim()), itemDiagnostics.First(d => d.Severity == DiagnosticSeverity.Error))));
            }
        }

        if (diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error) && requests.Count == 0)
        {
            Report(diagnostics);
            WriteReport(JobReport.Create(ProjectFile, reportOrder.Select(r => r.Invalid!), stopwatch.Elapsed));
            WriteManifest(Array.Empty<ItemResult>());
            return false;
        }

        string root = Path.GetFullPath(IntermediateDirectory);
        var settings = new BatchSettings(
            OutputDirectory: Path.Combine(root, "out"),
            StateFile: Path.Combine(root, "state.json"),
            CacheDirectory: Path.GetFullPath(Path.Combine(ProjectDirectory, CacheDirectory)),
            MaxParallelism: parallelism > 0 ? parallelism : ImageBatch.DefaultParallelism,
            MaxPixels: maxPixels,
            DeployedDirectory: OutputDirectory.Length > 0 ? Path.GetFullPath(Path.Combine(ProjectDirectory, OutputDirectory)) : null,
            Downloads: downloads);

        BatchResult result;
        var logGate = new object();
        try
        {
            void OnItemDone(ItemResult item, int done)
            {
                lock (logGate)
                {
                    if (item.Download is { Downloaded: true } download)
                    {
                        Log.LogMessage(MessageImportance.Normal, $"KoalaPic: downloaded {download.Url} ({BatchReport.FormatBytes(download.Bytes)}, sha256 {download.Sha256})");
                    }

                    if (item.Outcome == ItemOutcome.Converted)
                    {
                        Log.LogMessage(MessageImportance.Normal, BatchReport.ProgressLine(item, done, requests.Count));
                    }
                }
            }

            var natives = new NativeLocations(NullIfEmpty(LibvipsDirectory.Trim()), NullIfEmpty(MagickDirectory.Trim()), NullIfEmpty(HostRuntimeIdentifier.Trim()));
            if (RunsOutOfProcess)
            {
                result = OutOfProcessBatch.Run(DotNetHostPath, EngineProcessPath, settings, requests, OnItemDone, cancellation.Token, natives);
            }
            else
            {
                NativeLocations.Configure(natives);
                result = new ImageBatch(settings).Run(requests, OnItemDone, cancellation.Token);
            }
        }
        catch (EngineLoadException ex)
        {
            return BatchFailed(diagnostics, DiagnosticCodes.EngineLoadFailed, ex.Message);
        }
        catch (ConcurrentBuildException ex)
        {
            return BatchFailed(diagnostics, DiagnosticCodes.ConcurrentBuild, ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The batch's own bookkeeping (state file, stale outputs) could not be written: a KP error, not MSB4018.
            return BatchFailed(diagnostics, DiagnosticCodes.CannotWrite, $"KoalaPic: cannot write under '{IntermediateDirectory}': {ex.Message}");
        }
        catch (OperationCanceledException)
        {
            Log.LogWarning(null, DiagnosticCodes.Cancelled, null, ProjectFile, 0, 0, 0, 0, "KoalaPic: image conversion was cancelled; finished outputs are kept, the rest is converted by the next build.");
            return false;
        }

        diagnostics.AddRange(result.Items.Where(i => i.Diagnostic != null).Select(i => i.Diagnostic!)
            .Select(d => imageErrorsAsWarnings && d.Severity == DiagnosticSeverity.Error && DiagnosticCodes.IsBadImage(d.Code) ? d with { Severity = DiagnosticSeverity.Warning } : d));
        Report(diagnostics);
        foreach (string deleted in result.DeletedOutputs)
        {
            Log.LogMessage(MessageImportance.Low, $"KoalaPic: deleted '{deleted}', which no KoalaImage item produces any more.");
        }

        Log.LogMessage(MessageImportance.High, BatchReport.SummaryLine(result));
        ImageCount = result.Items.Count;
        var (kept, skipped) = ImageVariants.SkipWiderThanSource(result.Items, widthVariants.Contains);
        foreach (ItemResult narrow in skipped)
        {
            Log.LogMessage(MessageImportance.Low, $"KoalaPic: skipped '{narrow.Request.OutputPath}': the source '{narrow.Request.ItemSpec}' is only {narrow.Width} pixels wide, narrower than {narrow.Request.Options.Width} in Widths (widths are not enlarged).");
        }

        ConvertedImages = kept.Where(i => i.Succeeded).Select(ToOutputItem).ToArray();
        WriteReport(JobReport.Create(ProjectFile, reportOrder.Select(r => r.Invalid ?? JobReport.Item(result.Items[r.Request])), stopwatch.Elapsed));
        WriteManifest(kept);
        if (ZipPath.Trim().Length > 0 && !Log.HasLoggedErrors)
        {
            WriteZip(kept);
        }

        return !Log.HasLoggedErrors;

        bool BatchFailed(List<Diagnostic> reported, string code, string message)
        {
            Report(reported);
            Log.LogError(null, code, null, ProjectFile, 0, 0, 0, 0, message);
            var error = new JobReportError(code, message);
            WriteReport(JobReport.Create(
                ProjectFile,
                reportOrder.Select(r => r.Invalid ?? JobReport.Invalid(requests[r.Request].ItemSpec, requests[r.Request].Url?.Url ?? requests[r.Request].SourcePath, ImageFormats.Name(requests[r.Request].Options.Format), Diagnostic.Error(code, message, ProjectFile))),
                stopwatch.Elapsed,
                error));
            WriteManifest(Array.Empty<ItemResult>());
            return false;
        }
    }

    /// <summary>obj/…/koalapic/report.json always, and KoalaPicReportPath when set.</summary>
    private void WriteReport(JobReport report)
    {
        var paths = new List<string> { Path.Combine(Path.GetFullPath(IntermediateDirectory), "report.json") };
        if (ReportPath.Trim().Length > 0)
        {
            paths.Add(Path.GetFullPath(Path.Combine(ProjectDirectory, ReportPath.Trim())));
        }

        foreach (string path in paths)
        {
            try
            {
                report.Write(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.LogError(null, DiagnosticCodes.CannotWriteReport, null, ProjectFile, 0, 0, 0, 0, $"KoalaPic: cannot write the job report '{path}' (KoalaPicReportPath): {ex.Message}");
            }
        }
    }

    /// <summary>obj/…/koalapic/koalapic.manifest.json, written by every build (empty when the batch did not run).</summary>
    private void WriteManifest(IEnumerable<ItemResult> results)
    {
        string path = Path.Combine(Path.GetFullPath(IntermediateDirectory), ImageManifest.FileName);
        try
        {
            ImageManifest.Create(ProjectDirectory, results, UrlBasePath).Write(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.LogError(null, DiagnosticCodes.CannotWriteReport, null, ProjectFile, 0, 0, 0, 0, $"KoalaPic: cannot write the image manifest '{path}': {ex.Message}");
        }
    }

    private void WriteZip(IReadOnlyList<ItemResult> results)
    {
        string path = Path.GetFullPath(Path.Combine(ProjectDirectory, ZipPath.Trim()));
        var outputs = results.Where(i => i.Succeeded).Select(i => (i.Request.OutputPath, i.OutputFile)).ToList();
        try
        {
            bool written = OutputArchive.Write(path, outputs);
            Log.LogMessage(MessageImportance.Normal, written
                ? $"KoalaPic: wrote {path} ({outputs.Count} images)"
                : $"KoalaPic: {path} is up to date ({outputs.Count} images)");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.LogError(null, DiagnosticCodes.CannotWriteZip, null, ProjectFile, 0, 0, 0, 0, $"KoalaPic: cannot write the ZIP of all outputs '{path}' (KoalaPicZipPath): {ex.Message}");
        }
    }

    private static string? NullIfEmpty(string text) => text.Length == 0 ? null : text;

    // libvips cannot be loaded into .NET Framework with the natives this package ships (NetVips needs its separate
    // .NET Framework native layout there), so .NET Framework MSBuild (Visual Studio, msbuild.exe) always converts in
    // the koalapic process.
#if NETFRAMEWORK
    private bool RunsOutOfProcess => true;
#else
    private bool RunsOutOfProcess => OutOfProcess;
#endif

    private static ITaskItem ToOutputItem(ItemResult result)
    {
        var item = new TaskItem(result.OutputFile);
        item.SetMetadata("TargetPath", result.Request.OutputPath.Replace('/', Path.DirectorySeparatorChar));
        item.SetMetadata("KoalaPicSource", result.Request.ItemSpec);
        item.SetMetadata("KoalaPicFormat", ImageFormats.Name(result.Request.Options.Format));
        if (result.Width is int width && result.Height is int height)
        {
            item.SetMetadata("KoalaPicWidth", width.ToString(System.Globalization.CultureInfo.InvariantCulture));
            item.SetMetadata("KoalaPicHeight", height.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return item;
    }

    /// <summary>Diagnostics go out after the parallel loop, in item order, so logs are the same from run to run.</summary>
    private void Report(IEnumerable<Diagnostic> diagnostics)
    {
        foreach (Diagnostic d in diagnostics)
        {
            if (d.Severity == DiagnosticSeverity.Error)
            {
                Log.LogError(subcategory: null, errorCode: d.Code, helpKeyword: null, file: d.File, lineNumber: 0, columnNumber: 0, endLineNumber: 0, endColumnNumber: 0, message: d.Message);
            }
            else
            {
                Log.LogWarning(subcategory: null, warningCode: d.Code, helpKeyword: null, file: d.File, lineNumber: 0, columnNumber: 0, endLineNumber: 0, endColumnNumber: 0, message: d.Message);
            }
        }
    }

    private long ParseProperty(string name, string text, long fallback, long min, long max, List<Diagnostic> diagnostics)
    {
        string value = text.Trim();
        if (value.Length == 0)
        {
            return fallback;
        }

        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long parsed) && parsed >= min && parsed <= max)
        {
            return parsed;
        }

        diagnostics.Add(Diagnostic.Error(
            DiagnosticCodes.InvalidProperty,
            $"{name}=\"{value}\" is not valid. Accepted values: a whole number from {min} to {max}, or empty for the default ({fallback}).",
            ProjectFile));
        return fallback;
    }

    private bool ParseBool(string name, string text, List<Diagnostic> diagnostics)
    {
        string value = text.Trim();
        if (value.Length == 0 || value.Equals("false", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (value.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        diagnostics.Add(Diagnostic.Error(
            DiagnosticCodes.InvalidProperty,
            $"{name}=\"{value}\" is not valid. Accepted values: true, false, or empty for the default (false).",
            ProjectFile));
        return false;
    }

    private int ParseProperty(string name, string text, int fallback, int min, int max, List<Diagnostic> diagnostics) =>
        (int)ParseProperty(name, text, (long)fallback, min, max, diagnostics);
}
