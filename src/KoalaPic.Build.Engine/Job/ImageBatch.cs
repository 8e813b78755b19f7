using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Hashing;
using System.Linq;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;

namespace KoalaPic.Build.Engine;

/// <summary>Where a batch keeps its files and how hard it may work.</summary>
/// <param name="OutputDirectory">Where outputs are written, at each request's OutputPath (obj/…/koalapic/out).</param>
/// <param name="StateFile">The batch's record of the outputs it owns.</param>
/// <param name="CacheDirectory">The content-addressed cache shared by builds (KoalaPicCacheDir).</param>
/// <param name="DeployedDirectory">Where copies of the outputs are deployed (bin/); a failed item's stale copy there is removed.</param>
/// <param name="LockTimeoutSeconds">How long a batch waits for another build of the same project to finish converting.</param>
/// <param name="MaxSourceBytes">The largest source file read (KoalaPicMaxSourceBytes); larger ones fail with KP2011 unread.</param>
public sealed record BatchSettings(
    string OutputDirectory,
    string StateFile,
    string CacheDirectory,
    int MaxParallelism,
    long MaxPixels = ImageConverter.DefaultMaxPixels,
    string? DeployedDirectory = null,
    int LockTimeoutSeconds = ImageBatch.DefaultLockTimeoutSeconds,
    DownloadSettings? Downloads = null,
    long MaxSourceBytes = SourceFile.DefaultMaxBytes)
{
    /// <summary>
    /// Where outputs are written before they are renamed into <see cref="OutputDirectory"/>: beside it (same disk),
    /// not in it, so every file in the output folder is always a whole image, even after kill -9.
    /// </summary>
    public string TemporaryDirectory => new JobLayout(Path.GetDirectoryName(Path.GetFullPath(StateFile))!).TemporaryDirectory;
}

/// <summary>
/// Converts a set of images incrementally by content: an output is encoded only when no output or cache entry exists
/// for the hash of its source bytes, its settings and the engine version; files are written only when their bytes change.
/// </summary>
public sealed class ImageBatch
{
    /// <summary>Five minutes: long enough for an IDE build converting a large folder, short enough to end a stuck one.</summary>
    public const int DefaultLockTimeoutSeconds = 300;

    /// <summary>
    /// Images converted at once when KoalaPicMaxParallelism is not set: two more than the processors, each with one
    /// libvips thread. Parts of every conversion use one core only (PNG decoding, the encoders' entropy coding, file
    /// I/O); two extra images in flight fill the cores those leave idle, as sharp's four libuv workers do.
    /// Measured in docs/performance.md.
    /// </summary>
    public static int DefaultParallelism => Environment.ProcessorCount + 2;

    private static readonly StringComparer PathComparer = StringComparer.OrdinalIgnoreCase;

    private readonly BatchSettings settings;

    private readonly IOutputCache cache;

    /// <param name="cache">Where encoded outputs are kept by content key; by default the folder <see cref="BatchSettings.CacheDirectory"/>.</param>
    public ImageBatch(BatchSettings settings, IOutputCache? cache = null)
    {
        this.settings = settings;
        this.cache = cache ?? new FolderOutputCache(settings.CacheDirectory);
    }

    private int sourcesHashed;

    // Set by Run, for its items: the folders whose real paths every write and delete must stay inside.
    private OwnedFolder? outputFolder;
    private OwnedFolder? deployedFolder;

    /// <summary>Test seam: runs after an item's source bytes are read, to change the source during its conversion.</summary>
    internal Action<ImageRequest>? AfterSourceRead { get; set; }

    /// <summary>Test seam: how long before its stamp a source's last change must lie for the next build to trust the stamp.</summary>
    internal TimeSpan RacyWindow { get; set; } = SourceStamp.RacyWindow;

    /// <summary>How many sources the last <see cref="Run"/> read and hashed (the rest were up to date by their stamps).</summary>
    internal int SourcesHashed => sourcesHashed;

    /// <summary>Test seam: runs after a source is decoded for its outputs, with its path and how many decodes that took (<see cref="DecodedSource.Decodes"/>).</summary>
    internal Action<string, int>? AfterDecode { get; set; }

    /// <summary>The most sources that held decoded pixels at once in the last <see cref="Run"/>.</summary>
    internal int LastPeakDecoded { get; private set; }

    /// <summary>
    /// Sources whose decoded pixels may be held at once: one per image converted at once, as many as before decode-once
    /// (each conversion then held its own). What each holds is the source as its outputs load it (shrunk on load for
    /// JPEG and WebP, whole for PNG and TIFF), once per way they load it (DecodedSource).
    /// </summary>
    private static int MaxDecodedSources(int parallelism) => parallelism;

    /// <summary>
    /// At the end of a batch, when fewer encodes are left than cores, each gets more libvips threads, so that no core
    /// idles: libvips' threads per image are global (vips_concurrency_set), and heifsave hands them to libheif's aom
    /// encoder as its "threads" parameter when it starts an AVIF encode. Only raised, never lowered, during a batch:
    /// the next batch sets them again.
    /// </summary>
    private static void TailThreads(int unfinished, int parallelism)
    {
        if (unfinished < Math.Min(parallelism, Environment.ProcessorCount))
        {
            VipsRuntime.RaiseThreadsPerImage(VipsRuntime.ThreadsPerImage(unfinished));
        }
    }

    /// <param name="onItemDone">Called as each item finishes (from worker threads) with the result and how many are done.</param>
    /// <exception cref="EngineLoadException">libvips could not be loaded.</exception>
    /// <exception cref="ConcurrentBuildException">Another build of the project kept the lock past <see cref="BatchSettings.LockTimeoutSeconds"/>.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; outputs already written are complete files.</exception>
    public BatchResult Run(IReadOnlyList<ImageRequest> requests, Action<ItemResult, int>? onItemDone = null, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        sourcesHashed = 0;
        int parallelism = Math.Max(1, settings.MaxParallelism);

        // The libvips that loads is part of every key (a build in which nothing changed never runs this: PrepareKoalaPicRun).
        string engineVersion = VipsRuntime.EngineVersion;
        using var downloads = new UrlDownloader(settings.CacheDirectory, settings.Downloads ?? new DownloadSettings(), cancellationToken);
        downloads.Prefetch(requests);

        // Everything below reads and writes this project's state and outputs: one batch at a time.
        using BuildLock projectLock = BuildLock.Acquire(BuildLock.PathFor(settings.StateFile), TimeSpan.FromSeconds(settings.LockTimeoutSeconds), cancellationToken);
        DeleteLeftoverTemporaryFiles(settings.OutputDirectory);
        DeleteLeftoverTemporaryFiles(settings.TemporaryDirectory);
        outputFolder = new OwnedFolder(settings.OutputDirectory);
        deployedFolder = settings.DeployedDirectory != null ? new OwnedFolder(settings.DeployedDirectory) : null;
        OutputState previous = OutputState.Load(settings.StateFile);
        var results = new ItemResult[requests.Count];
        var kept = new ConcurrentDictionary<string, OutputRecord>(StringComparer.Ordinal);
        var owners = new Dictionary<string, ImageRequest>(PathComparer);
        var toConvert = new List<int>();
        for (int i = 0; i < requests.Count; i++)
        {
            if (owners.TryGetValue(requests[i].OutputPath, out ImageRequest? owner))
            {
                results[i] = Failure(requests[i], 0, Diagnostic.Error(
                    DiagnosticCodes.DuplicateOutput,
                    $"KoalaImage '{requests[i].ItemSpec}' would write '{requests[i].OutputPath}', which KoalaImage '{owner.ItemSpec}' already writes. Give one of them a different Link or Format.",
                    requests[i].SourcePath));
            }
            else
            {
                owners.Add(requests[i].OutputPath, requests[i]);
                toConvert.Add(i);
            }
        }

        // Two passes. First, per source, every variant is checked (up to date, in the cache) from one read of the
        // source; then the variants left to encode are handed out by cost (WorkQueue), those of one source resized
        // from one decode of it (ImageConverter.Decode).
        int done = 0;
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken };
        void Report(int i, ItemResult result)
        {
            results[i] = result;
            onItemDone?.Invoke(result, Interlocked.Increment(ref done));
        }

        var local = toConvert.Where(i => requests[i].Url == null)
            .GroupBy(i => requests[i].SourcePath, StringComparer.Ordinal)
            .Select(g => g.ToList())
            .ToList();
        var pendingBySource = new ConcurrentBag<List<PendingItem>>();
        try
        {
            Parallel.ForEach(Partitioner.Create(local, EnumerablePartitionerOptions.NoBuffering), options, indices =>
            {
                // One read of the source for all its variants; a read that fails fails each of them the same way.
                var read = new SourceRead(() => ReadSource(requests[indices[0]]));
                var pending = new List<PendingItem>();
                foreach (int i in indices)
                {
                    Step step = Guarded(requests[i], () => Prepare(i, requests[i], previous, kept, engineVersion, read, cancellationToken));
                    if (step.Pending is { } item)
                    {
                        pending.Add(item);
                    }
                    else
                    {
                        Report(i, step.Result!);
                    }
                }

                if (pending.Count > 0)
                {
                    pendingBySource.Add(pending);
                }
            });

            var urls = toConvert.Where(i => requests[i].Url != null).ToList();
            var queue = new WorkQueue(pendingBySource.Select(p => new SourceWork(p)), urls, MaxDecodedSources(parallelism));
            Parallel.For(0, parallelism, options, _ =>
            {
                try
                {
                    while (queue.Next() is { } job)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        if (job.Decode is { } work)
                        {
                            work.Decode(settings.MaxSourceBytes, settings.MaxPixels, AfterDecode, cancellationToken);
                            queue.Decoded(work);
                        }
                        else if (job.Encode is { } unit)
                        {
                            try
                            {
                                TailThreads(queue.Unfinished, parallelism);
                                Report(unit.Item.Index, unit.Work.Change is string change
                                    ? SourceChanged(unit.Item.Request, change, unit.Item.SourceLength)
                                    : Guarded(unit.Item.Request, () => Encode(unit.Item, kept, unit.Work.Source, () => unit.Work.Decoded.Encode(unit.Item.Request.Options, unit.Item.Request.Placeholder, cancellationToken))));
                            }
                            finally
                            {
                                // After a source's last output, its bytes and pixels are freed and another may be decoded.
                                queue.Finished(sourceDone: unit.Work.Release());
                            }
                        }
                        else
                        {
                            // URL items, after the local images: their downloads ran meanwhile (Prefetch).
                            int i = job.Download!.Value;
                            Report(i, downloads.Process(requests[i], localCopy => Process(localCopy, previous, kept, engineVersion, parallelism, cancellationToken), cancellationToken));
                            queue.Finished(false);
                        }
                    }
                }
                catch
                {
                    queue.Stop();
                    throw;
                }
            });
            LastPeakDecoded = queue.PeakDecoded;
        }
        catch (AggregateException ex) when (ex.InnerExceptions.OfType<EngineLoadException>().FirstOrDefault() is { } loadFailure)
        {
            // libvips is loaded by the first item that needs it, on a worker thread.
            ExceptionDispatchInfo.Capture(loadFailure).Throw();
        }

        var deleted = new List<string>();
        foreach (ItemResult failed in results.Where(r => !r.Succeeded && owners.TryGetValue(r.Request.OutputPath, out var o) && ReferenceEquals(o, r.Request)))
        {
            // A failed item keeps no output: not the one an earlier good version of the source produced, here or in bin/.
            if (previous.Outputs.ContainsKey(failed.Request.OutputPath))
            {
                DeleteOwnedFile(outputFolder!, failed.Request.OutputPath, deleted);
                if (deployedFolder != null)
                {
                    DeleteOwnedFile(deployedFolder, failed.Request.OutputPath, deleted);
                }
            }
        }

        // An output renamed only in case ("Img/A.webp" -> "img/a.webp") is stale on a case-sensitive file system, but
        // on a case-insensitive one it is the very file just written, which must stay.
        var currentExact = new HashSet<string>(owners.Keys, StringComparer.Ordinal);
        foreach (string stale in previous.Outputs.Keys.Where(path => !currentExact.Contains(path)))
        {
            if (!(owners.ContainsKey(stale) && FileSystemIgnoresCase(settings.OutputDirectory)))
            {
                DeleteOwnedFile(outputFolder!, stale, deleted);
            }
        }

        var next = new OutputState();
        foreach (var pair in kept.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            next.Outputs[pair.Key] = pair.Value;
        }

        next.Save(settings.StateFile);
        return new BatchResult(results, deleted, stopwatch.Elapsed);
    }

    /// <summary>Converts one item on its own (a URL item's downloaded copy).</summary>
    private ItemResult Process(ImageRequest request, OutputState previous, ConcurrentDictionary<string, OutputRecord> kept, string engineVersion, int parallelism, CancellationToken cancellationToken) =>
        Guarded(request, () =>
        {
            var read = new SourceRead(() => ReadSource(request));
            Step step = Prepare(-1, request, previous, kept, engineVersion, read, cancellationToken);
            if (step.Pending is not { } pending)
            {
                return step.Result!;
            }

            VipsRuntime.EnsureInitialized(parallelism);
            return Encode(pending, kept, read.Bytes, () => ImageConverter.ConvertWithPlaceholder(read.Bytes, request.Options, request.Placeholder, settings.MaxPixels, cancellationToken));
        });

    /// <summary>Whatever goes wrong becomes the item's diagnostic, never the batch's exception.</summary>
    private static ItemResult Guarded(ImageRequest request, Func<ItemResult> run) => Guarded(request, () => new Step(run(), null)).Result!;

    private static Step Guarded(ImageRequest request, Func<Step> run)
    {
        try
        {
            return run();
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not EngineLoadException)
        {
            // A hostile file that trips a bug (in KoalaPic, NetVips or a codec) fails its own item with a code and
            // the file's name, not the whole build with a stack trace (MSB4018).
            return new Step(Failure(request, 0, Diagnostic.Error(
                DiagnosticCodes.UnexpectedError,
                $"KoalaImage '{request.ItemSpec}': converting '{request.SourcePath}' failed unexpectedly: {ex.GetType().Name}: {ex.Message}. Please report this with the image.",
                request.SourcePath)), null);
        }
    }

    /// <summary>
    /// A source's bytes, read once for all its variants (a read that fails fails each of them the same way: the Lazy
    /// keeps the exception), and their hash, computed once, which the decode checks the bytes it reads again against.
    /// </summary>
    private sealed class SourceRead
    {
        private readonly Lazy<byte[]> bytes;
        private readonly Lazy<byte[]> hash;

        public SourceRead(Func<byte[]> read)
        {
            bytes = new Lazy<byte[]>(read, LazyThreadSafetyMode.ExecutionAndPublication);
            hash = new Lazy<byte[]>(() => XxHash128.Hash(bytes.Value), LazyThreadSafetyMode.ExecutionAndPublication);
        }

        public byte[] Bytes => bytes.Value;

        public byte[] Hash => hash.Value;
    }

    /// <summary>What checking an item found: its result (up to date, from the cache, failed), or the encode it needs.</summary>
    private readonly record struct Step(ItemResult? Result, PendingItem? Pending);

    private byte[] ReadSource(ImageRequest request)
    {
        byte[] source = SourceFile.ReadAllBytes(request.SourcePath, settings.MaxSourceBytes);
        Interlocked.Increment(ref sourcesHashed);
        return source;
    }

    /// <param name="index">The item's place among the batch's requests.</param>
    /// <param name="read">The source's bytes, read once for all the variants of one source.</param>
    private Step Prepare(int index, ImageRequest request, OutputState previous, ConcurrentDictionary<string, OutputRecord> kept, string engineVersion, SourceRead read, CancellationToken cancellationToken)
    {
        string outputFile;
        try
        {
            // Both the output here and its copy in bin/ (which MSBuild makes) must stay inside their folders.
            outputFile = outputFolder!.Resolve(request.OutputPath);
            deployedFolder?.Resolve(request.OutputPath);
        }
        catch (OutsideOwnedFolderException ex)
        {
            return Done(Failure(request, 0, Diagnostic.Error(DiagnosticCodes.OutputThroughLink, $"KoalaImage '{request.ItemSpec}': nothing was written for '{request.SourcePath}': {ex.Message}. Remove the link.", request.SourcePath)));
        }

        string settingsHash = ContentKey.Settings(request.Options, engineVersion);
        previous.Outputs.TryGetValue(request.OutputPath, out OutputRecord? record);
        SourceStamp stamp;
        try
        {
            stamp = SourceStamp.Of(request.SourcePath, DateTime.UtcNow - RacyWindow);

            // Stat first: a settled source whose stamp, path and settings are those its output was made from is
            // not read at all (SourceStamp says why that cannot miss a change).
            if (record != null && OutputState.SourceUnchanged(record, request.SourcePath, settingsHash, stamp) && OutputState.Matches(record, record.Key, outputFile)
                && ImagePlaceholder.Satisfies(record.Placeholder, request.Placeholder))
            {
                kept[request.OutputPath] = record;
                return Done(UpToDate(request, outputFile, stamp.Length, record));
            }
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Done(Failure(request, 0, Diagnostic.Error(DiagnosticCodes.SourceNotFound, $"KoalaImage '{request.ItemSpec}': the source file '{request.SourcePath}' does not exist.", request.SourcePath)));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Done(Failure(request, 0, Diagnostic.Error(DiagnosticCodes.SourceNotFound, $"KoalaImage '{request.ItemSpec}': the source file '{request.SourcePath}' cannot be read: {ex.Message}", request.SourcePath)));
        }

        byte[] source;
        try
        {
            source = read.Bytes;
        }
        catch (SourceRefusedException ex)
        {
            return Done(Failure(request, 0, Diagnostic.Error(ex.Code, $"KoalaImage '{request.ItemSpec}': the source '{request.SourcePath}' {ex.Message}.", request.SourcePath)));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Done(Failure(request, 0, Diagnostic.Error(DiagnosticCodes.SourceNotFound, $"KoalaImage '{request.ItemSpec}': the source file '{request.SourcePath}' does not exist.", request.SourcePath)));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Done(Failure(request, 0, Diagnostic.Error(DiagnosticCodes.SourceNotFound, $"KoalaImage '{request.ItemSpec}': the source file '{request.SourcePath}' cannot be read: {ex.Message}", request.SourcePath)));
        }

        AfterSourceRead?.Invoke(request);
        string key = ContentKey.Compute(source, request.Options, engineVersion);
        if (record != null && OutputState.Matches(record, key, outputFile) && ImagePlaceholder.Satisfies(record.Placeholder, request.Placeholder))
        {
            // Same bytes (a touched or checked-out file): record its new stamp so the next build need not read it.
            kept[request.OutputPath] = OutputState.WithSource(record, request.SourcePath, settingsHash, stamp);
            return Done(UpToDate(request, outputFile, source.Length, record));
        }

        var pending = new PendingItem(index, request, outputFile, key, settingsHash, stamp, source.Length, read.Hash);
        byte[]? bytes = cache.TryRead(key, request.Options.Format, out OutputFacts facts, out bool fromRemote, cancellationToken);
        if (bytes == null || !ImagePlaceholder.Satisfies(facts.Placeholder, request.Placeholder))
        {
            // Not in the cache, or an entry made without the placeholder now asked for (an older KoalaPic, or
            // Placeholder just turned on): converted again, which gives the same image bytes and the placeholder with them.
            // Its cost is estimated now, from the header of the bytes at hand; they are read again when it is encoded.
            VipsRuntime.EnsureInitialized(Math.Max(1, settings.MaxParallelism));
            return new Step(null, pending with { Cost = WorkCost.Estimate(source, request.Options, settings.MaxPixels) });
        }

        return Done(Finish(pending, source, bytes, facts, fromRemote ? ItemOutcome.FromRemoteCache : ItemOutcome.FromCache, kept, sourceWidth: 0));

        static Step Done(ItemResult result) => new(result, null);
    }

    /// <summary>Encodes an item <see cref="Prepare"/> left pending, and writes it.</summary>
    /// <param name="source">The source's bytes: those <see cref="Prepare"/> read (same hash).</param>
    private ItemResult Encode(PendingItem pending, ConcurrentDictionary<string, OutputRecord> kept, byte[] source, Func<EncodedImage> encode)
    {
        ImageRequest request = pending.Request;
        EncodedImage encoded;
        try
        {
            encoded = encode();
        }
        catch (ImageConversionException ex)
        {
            // A file rewritten while it was read can look corrupt: say what really happened.
            return SourceChangedFailure(request, pending.Stamp, source)
                ?? Failure(request, source.Length, Diagnostic.Error(ex.Code, $"KoalaImage '{request.ItemSpec}': '{request.SourcePath}' {ex.Message}.", request.SourcePath));
        }

        var facts = new OutputFacts(encoded.Width, encoded.Height, encoded.ChosenQuality) { Placeholder = encoded.Placeholder };
        return Finish(pending, source, encoded.Bytes, facts, ItemOutcome.Converted, kept, encoded.SourceWidth);
    }

    /// <summary>Writes an output (converted, or taken from the cache) and records it.</summary>
    private ItemResult Finish(PendingItem pending, byte[] source, byte[] bytes, OutputFacts facts, ItemOutcome outcome, ConcurrentDictionary<string, OutputRecord> kept, int sourceWidth)
    {
        ImageRequest request = pending.Request;

        // Nothing is written for bytes that are no longer the source's: the next build converts what is there then.
        if (SourceChangedFailure(request, pending.Stamp, source) is ItemResult changed)
        {
            return changed;
        }

        string? writing = null;
        try
        {
            if (outcome == ItemOutcome.Converted)
            {
                writing = cache.Describe(pending.Key, request.Options.Format);
                cache.Write(pending.Key, request.Options.Format, bytes, facts);
            }

            writing = "the output '" + pending.OutputFile + "'";
            AtomicFile.WriteIfChanged(pending.OutputFile, bytes, settings.TemporaryDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Failure(request, source.Length, Diagnostic.Error(DiagnosticCodes.CannotWrite, $"KoalaImage '{request.ItemSpec}': cannot write {writing} for '{request.SourcePath}': {ex.Message}", request.SourcePath));
        }

        OutputRecord made = OutputState.Describe(pending.Key, pending.OutputFile, facts, request.SourcePath, pending.SettingsHash, pending.Stamp);
        made.SourceWidth = sourceWidth;
        kept[request.OutputPath] = made;
        return new ItemResult(request, pending.OutputFile, outcome, source.Length, bytes.Length, null)
        {
            ChosenQuality = facts.ChosenQuality,
            Width = facts.Width > 0 ? facts.Width : null,
            Height = facts.Height > 0 ? facts.Height : null,
            Placeholder = ImagePlaceholder.For(facts.Placeholder, request.Placeholder),
        };
    }

    /// <summary>KP2009 when the source on disk is no longer the bytes that were read (edited, replaced or deleted).</summary>
    private static ItemResult? SourceChangedFailure(ImageRequest request, SourceStamp before, byte[] source) =>
        SourceStamp.DescribeChange(request.SourcePath, before, source) is string change ? SourceChanged(request, change, source.Length) : null;

    /// <param name="change">"changed", "was deleted".</param>
    private static ItemResult SourceChanged(ImageRequest request, string change, long sourceBytes) =>
        Failure(request, sourceBytes, Diagnostic.Error(
            DiagnosticCodes.SourceChanged,
            $"KoalaImage '{request.ItemSpec}': '{request.SourcePath}' {change} while KoalaPic was converting it, so nothing was written for it. Build again once the file is complete.",
            request.SourcePath));

    /// <summary>An output already made from these bytes and settings, with the size and quality recorded when it was made.</summary>
    private static ItemResult UpToDate(ImageRequest request, string outputFile, long sourceBytes, OutputRecord record) =>
        new(request, outputFile, ItemOutcome.UpToDate, sourceBytes, record.Length, null)
        {
            Width = record.Width > 0 ? record.Width : null,
            Height = record.Height > 0 ? record.Height : null,
            ChosenQuality = record.ChosenQuality,
            Placeholder = ImagePlaceholder.For(record.Placeholder, request.Placeholder),
        };

    private static ItemResult Failure(ImageRequest request, long sourceBytes, Diagnostic diagnostic) =>
        new(request, "", ItemOutcome.Failed, sourceBytes, 0, diagnostic);

    /// <summary>
    /// Temporary files a killed build left in the output folder (<c>.&lt;name&gt;.&lt;8 hex&gt;.tmp</c>, see
    /// <see cref="AtomicFile"/>). Safe under the project lock: no other batch writes this folder.
    /// </summary>
    private static void DeleteLeftoverTemporaryFiles(string directory)
    {
        var folder = new DirectoryInfo(directory);
        if (!folder.Exists || (folder.Attributes & FileAttributes.ReparsePoint) != 0)
        {
            return;
        }

        foreach (FileInfo file in folder.GetFiles(".*.tmp"))
        {
            if (AtomicFile.IsTemporaryName(file.Name) && (file.Attributes & FileAttributes.ReparsePoint) == 0)
            {
                AtomicFile.TryDelete(file.FullName);
            }
        }

        foreach (DirectoryInfo child in folder.GetDirectories())
        {
            DeleteLeftoverTemporaryFiles(child.FullName);
        }
    }

    private static bool FileSystemIgnoresCase(string directory)
    {
        string full = Path.GetFullPath(directory);
        string upper = full.ToUpperInvariant();
        string lower = full.ToLowerInvariant();
        return upper != lower && Directory.Exists(upper) && Directory.Exists(lower);
    }

    /// <summary>
    /// Deletes root/relativePath only if it is a regular file inside root: never a link, never outside, never through
    /// a folder that is a link leading outside root.
    /// </summary>
    private static void DeleteOwnedFile(OwnedFolder root, string relativePath, List<string> deleted)
    {
        string? file = root.TryResolve(relativePath);
        if (file == null)
        {
            return;
        }

        var info = new FileInfo(file);
        if (info.Exists && (info.Attributes & FileAttributes.ReparsePoint) == 0)
        {
            AtomicFile.TryDelete(file);
            deleted.Add(file);
        }
    }
}
