using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;

namespace KoalaPic.Build.Engine;

/// <summary>
/// The engine's one entry for a build: raw items and property strings in (<see cref="JobInput"/>); diagnostics,
/// outputs, report.json, the manifest and the ZIP out (<see cref="JobResult"/>). The MSBuild task calls it in process,
/// and the koalapic process calls it with the same input, so both do exactly the same work. Every failure of the
/// batch as a whole becomes a diagnostic here, once.
/// </summary>
public static class ImageJob
{
    public const string ReportFileName = "report.json";

    /// <param name="log">Receives progress, download and summary lines as they happen (from worker threads, one at a time).</param>
    public static JobResult Run(JobInput input, Action<JobLog>? log = null, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        // The natives the build brought into the NuGet folder for this machine (the package carries none).
        NativeLocations.Configure(input.Natives);
        var job = new Job(input, log ?? (_ => { }));
        return job.Run(stopwatch, cancellationToken);
    }

    /// <summary>
    /// The result of a job whose batch could not run at all (the engine process did not start): every item fails with
    /// the one diagnostic, and the report says so. Writes report.json and an empty manifest.
    /// </summary>
    public static JobResult Failed(JobInput input, string code, string message)
    {
        var job = new Job(input, _ => { });
        return job.Fail(Stopwatch.StartNew(), code, message);
    }

    /// <summary>The result of a cancelled job: a warning; finished outputs are whole and kept.</summary>
    public static JobResult Cancelled(JobInput input) => new()
    {
        Diagnostics = { CancelledWarning(input) },
        Cancelled = true,
    };

    private static Diagnostic CancelledWarning(JobInput input) =>
        Diagnostic.Warning(DiagnosticCodes.Cancelled, "KoalaPic: image conversion was cancelled; finished outputs are kept, the rest is converted by the next build.", input.ProjectFile);

    /// <summary>One job's state: what was parsed, in item order, and where the results go.</summary>
    private sealed class Job
    {
        private readonly JobInput input;
        private readonly Action<JobLog> log;
        private readonly object logGate = new();
        private readonly List<Diagnostic> diagnostics = new();
        private readonly List<ImageRequest> requests = new();
        private readonly HashSet<ImageRequest> widthVariants = new();
        private readonly List<(int Request, JobReportItem? Invalid)> reportOrder = new();
        private readonly List<string> writtenFiles = new();
        private readonly List<JobLog> closing = new();
        private readonly JobSettings settings;

        public Job(JobInput input, Action<JobLog> log)
        {
            this.input = input;
            this.log = log;
            settings = JobSettings.Parse(input.Properties, input.ProjectFile, diagnostics);
            ParseItems();
        }

        private string Root => Path.GetFullPath(input.IntermediateDirectory);

        private string ProjectPath(string path) => Path.GetFullPath(Path.Combine(input.ProjectDirectory, path));

        private void ParseItems()
        {
            var metadataDiagnostics = new List<(string ItemSpec, Diagnostic Diagnostic)>();
            foreach (JobItem item in input.Items)
            {
                // A URL as Include gets KP4001 from the parser; it is no path to resolve (on Windows it would throw), and
                // it is shown with any credentials in it masked.
                bool urlInclude = UrlSource.LooksLikeUrl(item.ItemSpec);
                string itemSpec = urlInclude ? UrlSource.Redact(item.ItemSpec) : item.ItemSpec;
                string source = urlInclude ? itemSpec : ProjectPath(item.ItemSpec);
                var itemDiagnostics = new List<Diagnostic>();
                IReadOnlyList<ImageRequest>? variants = ImageVariants.TryCreate(itemSpec, source, input.ProjectDirectory, item.Get, input.ProjectFile, itemDiagnostics);
                metadataDiagnostics.AddRange(itemDiagnostics.Select(d => (itemSpec, d)));
                if (variants == null)
                {
                    string format = item.Get(ItemMetadata.Format.Name).Trim();
                    reportOrder.Add((-1, JobReport.Invalid(itemSpec, UrlSource.IsUrlItem(item.Get) ? UrlSource.UrlOf(item.Get) : source, format.Length > 0 ? format : null, itemDiagnostics.First(d => d.Severity == DiagnosticSeverity.Error))));
                    continue;
                }

                // Variants from Widths: the ones the source is too narrow for are dropped after the batch (not enlarged).
                bool fromWidths = item.Get(ItemMetadata.Widths.Name).Trim().Length > 0;
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

            diagnostics.AddRange(ItemDiagnostics.Group(metadataDiagnostics));
            diagnostics.AddRange(DeclaredPatterns.Unmatched(input.DeclaringFiles, input.ProjectDirectory, input.Items.Select(i => i.ItemSpec).ToList()));
        }

        private bool HasErrors => diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);

        public JobResult Run(Stopwatch stopwatch, CancellationToken cancellationToken)
        {
            if (input.Items.Count == 0 && !diagnostics.Any() && !File.Exists(Path.Combine(Root, "state.json")))
            {
                // No KoalaImage item, none declared, and no earlier output to remove: nothing to do or say.
                return new JobResult();
            }

            if (HasErrors && requests.Count == 0)
            {
                WriteReport(JobReport.Create(input.ProjectFile, reportOrder.Select(r => r.Invalid!), stopwatch.Elapsed));
                WriteManifest(Array.Empty<ItemResult>());
                return Result(Array.Empty<ItemResult>());
            }

            var batchSettings = new BatchSettings(
                OutputDirectory: Path.Combine(Root, "out"),
                StateFile: Path.Combine(Root, "state.json"),
                CacheDirectory: ProjectPath(input.CacheDirectory),
                MaxParallelism: settings.Parallelism,
                MaxPixels: settings.PixelLimit,
                DeployedDirectory: input.OutputDirectory.Length > 0 ? ProjectPath(input.OutputDirectory) : null,
                Downloads: settings.Downloads,
                MaxSourceBytes: settings.SourceByteLimit);

            // The shared cache server, when one is set: behind the local folder, so the batch sees one cache.
            using RemoteOutputCache? remote = settings.Remote is { } r ? new RemoteOutputCache(r, settings.Parallelism, input.ProjectFile) : null;
            var local = new FolderOutputCache(batchSettings.CacheDirectory);
            IOutputCache cache = remote != null ? new LayeredOutputCache(local, remote) : local;
            BatchResult batch;
            try
            {
                batch = new ImageBatch(batchSettings, cache).Run(requests, OnItemDone, cancellationToken);
            }
            catch (EngineLoadException ex)
            {
                return Fail(stopwatch, DiagnosticCodes.EngineLoadFailed, ex.Message);
            }
            catch (ConcurrentBuildException ex)
            {
                return Fail(stopwatch, DiagnosticCodes.ConcurrentBuild, ex.Message);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The batch's own bookkeeping (state file, stale outputs) could not be written: a KP error, not MSB4018.
                return Fail(stopwatch, DiagnosticCodes.CannotWrite, $"KoalaPic: cannot write under '{input.IntermediateDirectory}': {ex.Message}");
            }
            catch (OperationCanceledException)
            {
                diagnostics.Add(CancelledWarning(input));
                return new JobResult { Diagnostics = diagnostics, Cancelled = true };
            }

            diagnostics.AddRange(batch.Items.Where(i => i.Diagnostic != null).Select(i => i.Diagnostic!)
                .Select(d => settings.BadImagesAsWarnings && d.Severity == DiagnosticSeverity.Error && DiagnosticCodes.IsBadImage(d.Code) ? d with { Severity = DiagnosticSeverity.Warning } : d));
            diagnostics.AddRange(remote?.Diagnostics ?? Array.Empty<Diagnostic>());
            diagnostics.AddRange(batch.Items.Select(ItemDiagnostics.LargerThanSource).Where(d => d != null).Select(d => d!));
            foreach (string deleted in batch.DeletedOutputs)
            {
                Closing(JobLogLevel.Low, $"KoalaPic: deleted '{deleted}', which no KoalaImage item produces any more.");
            }

            Closing(JobLogLevel.High, BatchLog.SummaryLine(batch));
            var (kept, skipped) = ImageVariants.SkipWiderThanSource(batch.Items, widthVariants.Contains);
            foreach (ItemResult narrow in skipped)
            {
                Closing(JobLogLevel.Low, $"KoalaPic: skipped '{narrow.Request.OutputPath}': the source '{narrow.Request.ItemSpec}' is only {narrow.Width} pixels wide, narrower than {narrow.Request.Options.Width} in Widths (widths are not enlarged).");
            }

            WriteReport(JobReport.Create(input.ProjectFile, reportOrder.Select(r => r.Invalid ?? JobReport.Item(batch.Items[r.Request])), stopwatch.Elapsed));
            WriteManifest(kept);
            if (settings.Zip.Length > 0 && !HasErrors)
            {
                WriteZip(kept);
            }

            return Result(kept);
        }

        /// <summary>The batch as a whole could not run: one error, every item failed with it in the report.</summary>
        public JobResult Fail(Stopwatch stopwatch, string code, string message)
        {
            var error = Diagnostic.Error(code, message, input.ProjectFile);
            diagnostics.Add(error);
            WriteReport(JobReport.Create(
                input.ProjectFile,
                reportOrder.Select(r => r.Invalid ?? JobReport.Invalid(requests[r.Request].ItemSpec, requests[r.Request].Url?.Url ?? requests[r.Request].SourcePath, ImageFormats.Name(requests[r.Request].Options.Format), error)),
                stopwatch.Elapsed,
                new JobReportError(code, message)));
            WriteManifest(Array.Empty<ItemResult>());
            return Result(Array.Empty<ItemResult>());
        }

        private JobResult Result(IEnumerable<ItemResult> kept) => new()
        {
            Diagnostics = diagnostics,
            Outputs = kept.Where(i => i.Succeeded).Select(ToOutput).ToList(),
            WrittenFiles = writtenFiles,
            Log = closing,
            ImageCount = requests.Count,
        };

        private static JobOutput ToOutput(ItemResult result) =>
            new(result.OutputFile, result.Request.OutputPath, result.Request.ItemSpec, ImageFormats.Name(result.Request.Options.Format), result.Width, result.Height);

        private void OnItemDone(ItemResult item, int done)
        {
            if (item.Download is { Downloaded: true } download)
            {
                Log(JobLogLevel.Normal, $"KoalaPic: downloaded {download.Url} ({BatchLog.FormatBytes(download.Bytes)}, sha256 {download.Sha256})");
            }

            if (item.Outcome == ItemOutcome.Converted)
            {
                Log(JobLogLevel.Normal, BatchLog.ProgressLine(item, done, requests.Count));
            }
        }

        /// <summary>A line the host logs after the diagnostics, as the summary always came after the errors it counts.</summary>
        private void Closing(JobLogLevel level, string text) => closing.Add(new JobLog(level, text));

        private void Log(JobLogLevel level, string text)
        {
            lock (logGate)
            {
                log(new JobLog(level, text));
            }
        }

        /// <summary>obj/…/koalapic/report.json always, and KoalaPicReportPath when set.</summary>
        private void WriteReport(JobReport report)
        {
            var paths = new List<string> { Path.Combine(Root, ReportFileName) };
            if (settings.Report.Length > 0)
            {
                paths.Add(JobSettings.ArtifactPath(settings.Report, input.ProjectDirectory, input.OutputDirectory));
                writtenFiles.Add(paths[1]);
            }

            foreach (string path in paths)
            {
                Write(() => report.Write(path), DiagnosticCodes.CannotWriteReport, $"the job report '{path}' ({JobSettings.ReportPath})");
            }
        }

        /// <summary>obj/…/koalapic/koalapic.manifest.json, written by every build (empty when the batch did not run).</summary>
        private void WriteManifest(IEnumerable<ItemResult> results)
        {
            string path = Path.Combine(Root, ImageManifest.FileName);
            Write(() => ImageManifest.Create(input.ProjectDirectory, results, input.UrlBasePath).Write(path), DiagnosticCodes.CannotWriteReport, $"the image manifest '{path}'");
        }

        private void WriteZip(IReadOnlyList<ItemResult> results)
        {
            string path = JobSettings.ArtifactPath(settings.Zip, input.ProjectDirectory, input.OutputDirectory);
            writtenFiles.Add(path);
            var outputs = results.Where(i => i.Succeeded).Select(i => (i.Request.OutputPath, i.OutputFile)).ToList();
            Write(
                () => Closing(JobLogLevel.Normal, OutputArchive.Write(path, outputs)
                    ? $"KoalaPic: wrote {path} ({outputs.Count} images)"
                    : $"KoalaPic: {path} is up to date ({outputs.Count} images)"),
                DiagnosticCodes.CannotWriteZip,
                $"the ZIP of all outputs '{path}' ({JobSettings.ZipPath})");
        }

        private void Write(Action write, string code, string what)
        {
            try
            {
                write();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                diagnostics.Add(Diagnostic.Error(code, $"KoalaPic: cannot write {what}: {ex.Message}", input.ProjectFile));
            }
        }
    }
}
