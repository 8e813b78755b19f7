using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace KoalaPic.Build.Engine;

/// <summary>
/// The engine's one entry for a build: raw items and property strings in (<see cref="JobInput"/>); diagnostics,
/// outputs, report.json, the manifest and the ZIP out (<see cref="JobResult"/>). The MSBuild task calls it in process,
/// and the koalapic process calls it with the same input, so both do exactly the same work. Every failure of the
/// batch as a whole becomes a diagnostic here, once.
/// </summary>
public static class ImageJob
{
    /// <param name="log">Receives progress, download and summary lines as they happen (from worker threads, one at a time).</param>
    public static JobResult Run(JobInput input, Action<JobLog>? log = null, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        // The natives the build brought into the NuGet folder for this machine (the package carries none).
        NativeLocations.Configure(input.Natives);
        var job = new Job(input, log ?? (_ => { }));
        JobResult result = job.Run(stopwatch, cancellationToken);
        if (!result.Cancelled)
        {
            job.WriteLastRun(result);
        }

        return result;
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
        private readonly List<IReadOnlyList<ImageRequest>> itemsWithWidths = new();
        private List<(int Request, JobReportItem? Invalid)> reportOrder = new();
        private readonly List<string> writtenFiles = new();
        private readonly List<JobLog> closing = new();
        private readonly JobSettings settings;
        private bool nothingToDo;
        private readonly IReadOnlyList<DeclaredPatterns.Definition> definitions;
        private readonly Func<string, DeclaredPatterns.Definition?> definitionOf;

        public Job(JobInput input, Action<JobLog> log)
        {
            this.input = input;
            this.log = log;
            settings = JobSettings.Parse(input.Properties, input.ProjectFile, diagnostics);
            definitions = DeclaredPatterns.ReadAll(input.DeclaringFiles);
            definitionOf = DeclaredPatterns.Locator(definitions, input.ProjectDirectory);
            ParseItems();
        }

        /// <summary>
        /// A diagnostic that points at the project file points at the KoalaImage element the item comes from, with
        /// its line, when that can be found; one about an image keeps pointing at the image.
        /// </summary>
        private Diagnostic AtDefinition(Diagnostic diagnostic, string itemSpec) =>
            string.Equals(diagnostic.File, input.ProjectFile, StringComparison.Ordinal) && diagnostic.Line == null
                ? diagnostic.At(definitionOf(itemSpec)?.Location)
                : diagnostic;

        private JobLayout Layout => new(input.IntermediateDirectory);

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
                metadataDiagnostics.AddRange(itemDiagnostics.Select(d => (itemSpec, AtDefinition(d, item.ItemSpec))));
                if (variants == null)
                {
                    string format = item.Get(ItemMetadata.Format.Name).Trim();
                    reportOrder.Add((-1, JobReport.Invalid(itemSpec, UrlSource.IsUrlItem(item.Get) ? UrlSource.UrlOf(item.Get) : source, format.Length > 0 ? format : null, itemDiagnostics.First(d => d.Severity == DiagnosticSeverity.Error))));
                    continue;
                }

                // Variants from Widths: the ones the source is too narrow for are not made (widths are not enlarged).
                bool fromWidths = item.Get(ItemMetadata.Widths.Name).Trim().Length > 0;
                if (fromWidths)
                {
                    itemsWithWidths.Add(variants);
                }

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
            diagnostics.AddRange(DeclaredPatterns.Unmatched(definitions, input.ProjectDirectory, input.Items.Select(i => i.ItemSpec).ToList()));
        }

        private bool HasErrors => diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);

        public JobResult Run(Stopwatch stopwatch, CancellationToken cancellationToken)
        {
            if (input.Items.Count == 0 && !diagnostics.Any() && !File.Exists(Layout.StateFile))
            {
                // No KoalaImage item, none declared, and no earlier output to remove: nothing to do or say.
                nothingToDo = true;
                return new JobResult();
            }

            if (HasErrors && requests.Count == 0)
            {
                WriteReport(JobReport.Create(input.ProjectFile, reportOrder.Select(r => r.Invalid!), stopwatch.Elapsed));
                WriteManifest(Array.Empty<ItemResult>());
                return Result(Array.Empty<ItemResult>());
            }

            if (DefaultCacheLeavesObj() is string escape)
            {
                return Fail(stopwatch, DiagnosticCodes.OutputThroughLink, escape);
            }

            var batchSettings = new BatchSettings(
                OutputDirectory: Layout.OutputDirectory,
                StateFile: Layout.StateFile,
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
                LeaveOutWiderThanSource(batchSettings.StateFile, cancellationToken);
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

            diagnostics.AddRange(batch.Items.Where(i => i.Diagnostic != null).Select(i => AtDefinition(i.Diagnostic!, i.Request.ItemSpec))
                .Select(d => settings.BadImagesAsWarnings && d.Severity == DiagnosticSeverity.Error && DiagnosticCodes.IsBadImage(d.Code) ? d with { Severity = DiagnosticSeverity.Warning } : d));
            diagnostics.AddRange(remote?.Diagnostics ?? Array.Empty<Diagnostic>());
            var (kept, skipped) = ImageVariants.SkipWiderThanSource(batch.Items, widthVariants.Contains);
            diagnostics.AddRange(ItemDiagnostics.LargerThanSource(kept, definitionOf));
            foreach (string deleted in batch.DeletedOutputs)
            {
                Closing(JobLogLevel.Low, $"KoalaPic: deleted '{deleted}', which no KoalaImage item produces any more.");
            }

            Closing(JobLogLevel.High, BatchLog.SummaryLine(batch));
            foreach (ItemResult narrow in skipped)
            {
                // Only sources whose header could not be read get here: the others' narrow variants were never made.
                Closing(JobLogLevel.Low, SkippedLine(narrow.Request, narrow.Width ?? 0));
            }

            diagnostics.AddRange(Budgets.OverItemBudgets(kept, definitionOf, input.ProjectFile));
            if (Budgets.OverTotal(kept, settings.TotalByteLimit, input.ProjectFile) is Diagnostic overTotal)
            {
                diagnostics.Add(overTotal);
            }

            var report = JobReport.Create(
                input.ProjectFile,
                reportOrder.Select(r => r.Invalid ?? JobReport.Item(batch.Items[r.Request])),
                stopwatch.Elapsed,
                totalBytes: Budgets.Total(kept),
                maxTotalBytes: settings.TotalByteLimit);
            WriteReport(report);
            WriteSummary(report);
            WriteManifest(kept);
            if (settings.Zip.Length > 0 && !HasErrors)
            {
                WriteZip(kept);
            }

            return Result(kept);
        }

        private static string SkippedLine(ImageRequest variant, int sourceWidth) =>
            $"KoalaPic: skipped '{variant.OutputPath}': the source '{variant.ItemSpec}' is only {sourceWidth} pixels wide, narrower than {variant.Options.Width} in Widths (widths are not enlarged).";

        /// <summary>
        /// Leaves out the Widths variants the source is too narrow for before anything is converted (they would be
        /// dropped afterwards, as widths are not enlarged), from each source's width read from its header. A source
        /// whose header cannot be read is converted as a whole, and its narrow variants dropped after the batch.
        /// </summary>
        private void LeaveOutWiderThanSource(string stateFile, CancellationToken cancellationToken)
        {
            // One width per format is always kept: only items with several widths can lose variants.
            var candidates = itemsWithWidths
                .Where(variants => variants[0].Url == null && variants.GroupBy(v => v.Options.Format).Any(f => f.Count() > 1) && variants.Any(ImageVariants.OnlyShrinks))
                .ToList();
            if (candidates.Count == 0)
            {
                return;
            }

            // The last run's record knows the width of an unchanged source: a build with nothing to convert reads
            // no header and does not load libvips. The record is only a hint here (the batch reads it again under
            // the project's lock); a source whose stamp does not prove it unchanged has its header read.
            OutputState previous = OutputState.Load(stateFile);
            var sourceWidths = candidates.Select(variants => RecordedSourceWidth(previous, variants)).ToArray();
            var unknown = Enumerable.Range(0, candidates.Count).Where(i => sourceWidths[i] == null).ToList();
            if (unknown.Count > 0)
            {
                try
                {
                    VipsRuntime.EnsureInitialized(settings.Parallelism);
                    Parallel.ForEach(unknown, new ParallelOptions { MaxDegreeOfParallelism = settings.Parallelism, CancellationToken = cancellationToken }, i =>
                        sourceWidths[i] = SourceHeader.OrientedWidth(candidates[i][0].SourcePath, settings.SourceByteLimit, settings.PixelLimit));
                }
                catch (EngineLoadException)
                {
                    // The batch reports it; the variants are scheduled as they are.
                }
            }

            var leftOut = new HashSet<ImageRequest>();
            for (int i = 0; i < candidates.Count; i++)
            {
                if (sourceWidths[i] is int sourceWidth)
                {
                    foreach (ImageRequest variant in ImageVariants.WiderThanSource(candidates[i], sourceWidth))
                    {
                        leftOut.Add(variant);
                        Closing(JobLogLevel.Low, SkippedLine(variant, sourceWidth));
                    }
                }
            }

            if (leftOut.Count == 0)
            {
                return;
            }

            var kept = new List<ImageRequest>();
            var newIndex = new int[requests.Count];
            for (int i = 0; i < requests.Count; i++)
            {
                newIndex[i] = leftOut.Contains(requests[i]) ? -1 : kept.Count;
                if (newIndex[i] >= 0)
                {
                    kept.Add(requests[i]);
                }
            }

            reportOrder = reportOrder.Where(r => r.Invalid != null || newIndex[r.Request] >= 0)
                .Select(r => r.Invalid != null ? r : (newIndex[r.Request], null)).ToList();
            requests.Clear();
            requests.AddRange(kept);
        }

        /// <summary>The source width the last run recorded with any of these variants' outputs, if the source is unchanged since.</summary>
        private static int? RecordedSourceWidth(OutputState previous, IReadOnlyList<ImageRequest> variants)
        {
            var records = variants.Select(v => previous.Outputs.TryGetValue(v.OutputPath, out OutputRecord? r) ? r : null)
                .Where(r => r is { SourceWidth: > 0, Source: not null }).ToList();
            if (records.Count == 0)
            {
                return null;
            }

            try
            {
                SourceStamp now = SourceStamp.Of(variants[0].SourcePath);
                return records.FirstOrDefault(r => OutputState.SameSource(r!, variants[0].SourcePath, now))?.SourceWidth;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                return null;
            }
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

        /// <summary>
        /// The default cache, obj/koalapic/cache/, gets the rule of the folders KoalaPic owns (<see cref="OwnedFolder"/>):
        /// a link planted on its way that leads outside obj/ would have entries written, and read back into outputs,
        /// through it. A KoalaPicCacheDir of the user's own is where the user says.
        /// </summary>
        private string? DefaultCacheLeavesObj()
        {
            if (input.BaseIntermediateDirectory.Length == 0)
            {
                return null;
            }

            string obj = ProjectPath(input.BaseIntermediateDirectory);
            string cache = ProjectPath(input.CacheDirectory);
            if (!JobLayout.SameDirectory(cache, JobLayout.DefaultCacheDirectory(input.ProjectDirectory, input.BaseIntermediateDirectory)))
            {
                return null;
            }

            try
            {
                new OwnedFolder(obj).Resolve(Path.Combine(cache.Substring(Path.GetFullPath(obj).TrimEnd(Path.DirectorySeparatorChar).Length).TrimStart(Path.DirectorySeparatorChar), "entry"));
                return null;
            }
            catch (OutsideOwnedFolderException ex)
            {
                return $"KoalaPic: nothing was written to the default cache '{cache}': {ex.Message}. Remove the link, or set KoalaPicCacheDir to a folder of your own.";
            }
        }

        /// <summary>The record a build that skips the converter hands MSBuild again (<see cref="LastRun"/>).</summary>
        public void WriteLastRun(JobResult result)
        {
            // A job with nothing to do creates no folder; in a build, PrepareKoalaPicRun has made it already.
            if (!nothingToDo || Directory.Exists(Layout.Directory))
            {
                Write(() => LastRun.From(result).Write(Layout.LastRunFile), DiagnosticCodes.CannotWrite, $"the record of this run '{Layout.LastRunFile}'", result.Diagnostics);
            }
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
            var paths = new List<string> { Layout.ReportFile };
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

        /// <summary>
        /// Appends the CI summary (<see cref="CiSummary"/>) to GITHUB_STEP_SUMMARY and KoalaPicSummaryPath when set. A
        /// summary that cannot be written is a warning: it is for people, and the images are fine.
        /// </summary>
        private void WriteSummary(JobReport report)
        {
            var paths = new List<string>();
            if (Environment.GetEnvironmentVariable(JobSettings.GitHubStepSummary) is { Length: > 0 } stepSummary)
            {
                paths.Add(stepSummary);
            }

            if (settings.Summary.Length > 0)
            {
                paths.Add(JobSettings.ArtifactPath(settings.Summary, input.ProjectDirectory, input.OutputDirectory));
            }

            if (paths.Count == 0)
            {
                return;
            }

            byte[] markdown = System.Text.Encoding.UTF8.GetBytes(CiSummary.Markdown(report, input.ProjectDirectory));
            foreach (string path in paths.Distinct(StringComparer.Ordinal))
            {
                try
                {
                    CiSummary.Append(path, markdown);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
                {
                    diagnostics.Add(Diagnostic.Warning(DiagnosticCodes.CannotWriteSummary, $"KoalaPic: cannot append the CI summary to '{path}': {ex.Message}", input.ProjectFile));
                }
            }
        }

        /// <summary>obj/…/koalapic/koalapic.manifest.json, written by every build (empty when the batch did not run).</summary>
        private void WriteManifest(IEnumerable<ItemResult> results)
        {
            string path = Layout.ManifestFile;
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

        private void Write(Action write, string code, string what) => Write(write, code, what, diagnostics);

        private void Write(Action write, string code, string what, List<Diagnostic> into)
        {
            try
            {
                write();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                into.Add(Diagnostic.Error(code, $"KoalaPic: cannot write {what}: {ex.Message}", input.ProjectFile));
            }
        }
    }
}
