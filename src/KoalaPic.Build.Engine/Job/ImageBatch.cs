using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
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

        // Largest sources first, handed out one at a time: a big photo left for last would otherwise run alone on
        // one core at the end, and Parallel.ForEach's default range partitioning splits the list up front.
        var order = toConvert.OrderByDescending(i => SourceLengthOrZero(requests[i].SourcePath)).ToList();
        int done = 0;
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken };
        try
        {
            // Local images largest first, then URL items, handed out one at a time: a big photo left for last would
            // otherwise run alone on one core at the end, and URL downloads run while the local images convert.
            var ordered = order.Where(i => requests[i].Url == null).Concat(order.Where(i => requests[i].Url != null));
            Parallel.ForEach(Partitioner.Create(ordered, EnumerablePartitionerOptions.NoBuffering), options, i =>
            {
                results[i] = requests[i].Url != null
                    ? downloads.Process(requests[i], local => Process(local, previous, kept, engineVersion, parallelism, cancellationToken), cancellationToken)
                    : Process(requests[i], previous, kept, engineVersion, parallelism, cancellationToken);
                onItemDone?.Invoke(results[i], Interlocked.Increment(ref done));
            });
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

    /// <summary>Converts one item; whatever goes wrong becomes that item's diagnostic, never the batch's exception.</summary>
    private ItemResult Process(ImageRequest request, OutputState previous, ConcurrentDictionary<string, OutputRecord> kept, string engineVersion, int parallelism, CancellationToken cancellationToken)
    {
        try
        {
            return ProcessCore(request, previous, kept, engineVersion, parallelism, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not EngineLoadException)
        {
            // A hostile file that trips a bug (in KoalaPic, NetVips or a codec) fails its own item with a code and
            // the file's name, not the whole build with a stack trace (MSB4018).
            return Failure(request, 0, Diagnostic.Error(
                DiagnosticCodes.UnexpectedError,
                $"KoalaImage '{request.ItemSpec}': converting '{request.SourcePath}' failed unexpectedly: {ex.GetType().Name}: {ex.Message}. Please report this with the image.",
                request.SourcePath));
        }
    }

    private ItemResult ProcessCore(ImageRequest request, OutputState previous, ConcurrentDictionary<string, OutputRecord> kept, string engineVersion, int parallelism, CancellationToken cancellationToken)
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
            return Failure(request, 0, Diagnostic.Error(DiagnosticCodes.OutputThroughLink, $"KoalaImage '{request.ItemSpec}': nothing was written for '{request.SourcePath}': {ex.Message}. Remove the link.", request.SourcePath));
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
                return UpToDate(request, outputFile, stamp.Length, record);
            }
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Failure(request, 0, Diagnostic.Error(DiagnosticCodes.SourceNotFound, $"KoalaImage '{request.ItemSpec}': the source file '{request.SourcePath}' does not exist.", request.SourcePath));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Failure(request, 0, Diagnostic.Error(DiagnosticCodes.SourceNotFound, $"KoalaImage '{request.ItemSpec}': the source file '{request.SourcePath}' cannot be read: {ex.Message}", request.SourcePath));
        }

        byte[] source;
        try
        {
            source = SourceFile.ReadAllBytes(request.SourcePath, settings.MaxSourceBytes);
        }
        catch (SourceRefusedException ex)
        {
            return Failure(request, 0, Diagnostic.Error(ex.Code, $"KoalaImage '{request.ItemSpec}': the source '{request.SourcePath}' {ex.Message}.", request.SourcePath));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Failure(request, 0, Diagnostic.Error(DiagnosticCodes.SourceNotFound, $"KoalaImage '{request.ItemSpec}': the source file '{request.SourcePath}' does not exist.", request.SourcePath));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Failure(request, 0, Diagnostic.Error(DiagnosticCodes.SourceNotFound, $"KoalaImage '{request.ItemSpec}': the source file '{request.SourcePath}' cannot be read: {ex.Message}", request.SourcePath));
        }

        Interlocked.Increment(ref sourcesHashed);
        AfterSourceRead?.Invoke(request);
        string key = ContentKey.Compute(source, request.Options, engineVersion);
        if (record != null && OutputState.Matches(record, key, outputFile) && ImagePlaceholder.Satisfies(record.Placeholder, request.Placeholder))
        {
            // Same bytes (a touched or checked-out file): record its new stamp so the next build need not read it.
            kept[request.OutputPath] = OutputState.WithSource(record, request.SourcePath, settingsHash, stamp);
            return UpToDate(request, outputFile, source.Length, record);
        }

        ItemOutcome outcome = ItemOutcome.FromCache;
        int sourceWidth = 0;
        byte[]? bytes = cache.TryRead(key, request.Options.Format, out OutputFacts facts, out bool fromRemote, cancellationToken);
        if (fromRemote)
        {
            outcome = ItemOutcome.FromRemoteCache;
        }

        if (bytes != null && !ImagePlaceholder.Satisfies(facts.Placeholder, request.Placeholder))
        {
            // An entry made without the placeholder now asked for (an older KoalaPic, or Placeholder just turned on):
            // converted again, which gives the same image bytes and the placeholder with them.
            bytes = null;
        }

        if (bytes == null)
        {
            try
            {
                VipsRuntime.EnsureInitialized(parallelism);
                EncodedImage encoded = ImageConverter.ConvertWithPlaceholder(source, request.Options, request.Placeholder, settings.MaxPixels, cancellationToken);
                bytes = encoded.Bytes;
                facts = new OutputFacts(encoded.Width, encoded.Height, encoded.ChosenQuality) { Placeholder = encoded.Placeholder };
                sourceWidth = encoded.SourceWidth;
                outcome = ItemOutcome.Converted;
            }
            catch (ImageConversionException ex)
            {
                // A file rewritten while it was read can look corrupt: say what really happened.
                return SourceChangedFailure(request, stamp, source)
                    ?? Failure(request, source.Length, Diagnostic.Error(ex.Code, $"KoalaImage '{request.ItemSpec}': '{request.SourcePath}' {ex.Message}.", request.SourcePath));
            }
        }

        // Nothing is written for bytes that are no longer the source's: the next build converts what is there then.
        if (SourceChangedFailure(request, stamp, source) is ItemResult changed)
        {
            return changed;
        }

        string? writing = null;
        try
        {
            if (outcome == ItemOutcome.Converted)
            {
                writing = cache.Describe(key, request.Options.Format);
                cache.Write(key, request.Options.Format, bytes, facts);
            }

            writing = "the output '" + outputFile + "'";
            AtomicFile.WriteIfChanged(outputFile, bytes, settings.TemporaryDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Failure(request, source.Length, Diagnostic.Error(DiagnosticCodes.CannotWrite, $"KoalaImage '{request.ItemSpec}': cannot write {writing} for '{request.SourcePath}': {ex.Message}", request.SourcePath));
        }

        OutputRecord made = OutputState.Describe(key, outputFile, facts, request.SourcePath, settingsHash, stamp);
        made.SourceWidth = sourceWidth;
        kept[request.OutputPath] = made;
        return new ItemResult(request, outputFile, outcome, source.Length, bytes.Length, null)
        {
            ChosenQuality = facts.ChosenQuality,
            Width = facts.Width > 0 ? facts.Width : null,
            Height = facts.Height > 0 ? facts.Height : null,
            Placeholder = ImagePlaceholder.For(facts.Placeholder, request.Placeholder),
        };
    }

    /// <summary>KP2009 when the source on disk is no longer the bytes that were read (edited, replaced or deleted).</summary>
    private static ItemResult? SourceChangedFailure(ImageRequest request, SourceStamp before, byte[] source)
    {
        string? change = SourceStamp.DescribeChange(request.SourcePath, before, source);
        return change == null
            ? null
            : Failure(request, source.Length, Diagnostic.Error(
                DiagnosticCodes.SourceChanged,
                $"KoalaImage '{request.ItemSpec}': '{request.SourcePath}' {change} while KoalaPic was converting it, so nothing was written for it. Build again once the file is complete.",
                request.SourcePath));
    }

    /// <summary>An output already made from these bytes and settings, with the size and quality recorded when it was made.</summary>
    private static ItemResult UpToDate(ImageRequest request, string outputFile, long sourceBytes, OutputRecord record) =>
        new(request, outputFile, ItemOutcome.UpToDate, sourceBytes, record.Length, null)
        {
            Width = record.Width > 0 ? record.Width : null,
            Height = record.Height > 0 ? record.Height : null,
            ChosenQuality = record.ChosenQuality,
            Placeholder = ImagePlaceholder.For(record.Placeholder, request.Placeholder),
        };

    private static long SourceLengthOrZero(string path)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Exists ? info.Length : 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return 0;
        }
    }

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
