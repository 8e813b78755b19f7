using System.Collections.Generic;
using System.Linq;

namespace KoalaPic.Build.Engine;

public enum DiagnosticSeverity
{
    Warning,
    Error,
}

/// <summary>
/// A problem the engine reports as a value, never by logging: the MSBuild task (or any other host) decides how to show it.
/// </summary>
/// <param name="Code">A <c>KP</c> code from <see cref="DiagnosticCodes"/>.</param>
/// <param name="File">The file an IDE should jump to: the image, or the project file for metadata problems.</param>
public sealed record Diagnostic(string Code, DiagnosticSeverity Severity, string Message, string? File)
{
    /// <summary>
    /// The 1-based line in <see cref="File"/> of what the diagnostic is about, when known: the KoalaImage element of a
    /// metadata problem in the project file. Null when unknown or when <see cref="File"/> is the image itself.
    /// </summary>
    public int? Line { get; init; }

    /// <summary>The 1-based column of <see cref="Line"/>'s element, when known.</summary>
    public int? Column { get; init; }

    /// <summary>This diagnostic pointing at <paramref name="location"/> (a KoalaImage element), or unchanged when none is known.</summary>
    public Diagnostic At(SourceLocation? location) =>
        location == null ? this : this with { File = location.File, Line = location.Line, Column = location.Column };

    public static Diagnostic Error(string code, string message, string? file) => new(code, DiagnosticSeverity.Error, message, file);

    public static Diagnostic Warning(string code, string message, string? file) => new(code, DiagnosticSeverity.Warning, message, file);
}

/// <summary>A place in a project file: the file, and the 1-based line and column of an element in it.</summary>
public sealed record SourceLocation(string File, int Line, int Column);

/// <summary>Every code KoalaPic reports; docs/diagnostics.md describes each one.</summary>
public static class DiagnosticCodes
{
    /// <summary>The image engine (libvips) could not be loaded on this machine.</summary>
    public const string EngineLoadFailed = "KP0001";

    /// <summary>The build was cancelled (Ctrl+C) while images were converting.</summary>
    public const string Cancelled = "KP0002";

    public const string InvalidFormat = "KP1001";
    public const string InvalidQuality = "KP1002";
    public const string InvalidWidth = "KP1003";
    public const string InvalidHeight = "KP1004";

    /// <summary>Link is absolute or climbs out of the output folder.</summary>
    public const string InvalidLink = "KP1005";

    public const string InvalidFit = "KP1006";
    public const string InvalidPosition = "KP1007";
    public const string InvalidEnlarge = "KP1008";
    public const string InvalidBackground = "KP1009";
    public const string InvalidLossless = "KP1011";
    public const string InvalidSmartQuality = "KP1012";
    public const string InvalidKeepMetadata = "KP1013";
    public const string InvalidIcoSizes = "KP1014";

    /// <summary>OptimizeFor names no preset.</summary>
    public const string InvalidOptimizeFor = "KP1015";

    /// <summary>Widths is not a list of whole numbers of pixels.</summary>
    public const string InvalidWidths = "KP1016";

    /// <summary>Both Width and Widths are set on one item.</summary>
    public const string WidthAndWidths = "KP1017";

    /// <summary>Placeholder is not color, blur, thumbhash or none.</summary>
    public const string InvalidPlaceholder = "KP1018";

    /// <summary>MaxBytes is not a size (150KB, 1.5MB or a number of bytes).</summary>
    public const string InvalidMaxBytes = "KP1019";

    /// <summary>Effort is not a whole number, or outside the range of one of the item's formats.</summary>
    public const string InvalidEffort = "KP1024";

    /// <summary>Warning: Effort on an item none of whose formats has an effort setting (jpg, gif, …).</summary>
    public const string EffortIgnored = "KP1025";

    /// <summary>Warning: a KoalaImage Include with wildcards that matches no file.</summary>
    public const string PatternMatchesNothing = "KP1023";

    /// <summary>Warning: both Quality and SmartQuality are set; SmartQuality wins.</summary>
    public const string QualityAndSmartQuality = "KP1020";

    /// <summary>Warning: SmartQuality on a format it does not apply to; the fixed Quality is used.</summary>
    public const string SmartQualityIgnored = "KP1021";

    /// <summary>Warning: Lossless on a format that is always lossy.</summary>
    public const string LosslessIgnored = "KP1022";

    /// <summary>Two items would write the same output file.</summary>
    public const string DuplicateOutput = "KP1010";

    /// <summary>A KoalaPic* MSBuild property has a value that is not accepted.</summary>
    public const string InvalidProperty = "KP1101";

    /// <summary>The source file does not exist or cannot be opened.</summary>
    public const string SourceNotFound = "KP2001";

    /// <summary>The source is truncated or its image data is corrupt (its format was recognised from its first bytes).</summary>
    public const string CannotDecode = "KP2002";

    /// <summary>The image's width × height, read from its header, is over KoalaPicMaxPixels (a decompression bomb).</summary>
    public const string TooManyPixels = "KP2003";

    public const string CannotEncode = "KP2004";

    /// <summary>An output or cache entry (or KoalaPic's own files in obj/) cannot be written.</summary>
    public const string CannotWrite = "KP2005";

    /// <summary>The source file is empty (0 bytes).</summary>
    public const string EmptySource = "KP2007";

    /// <summary>The source's first bytes are not those of a format KoalaPic reads: text, HTML, a script format, a polyglot.</summary>
    public const string NotAnImage = "KP2008";

    /// <summary>The source changed or was deleted while it was being converted.</summary>
    public const string SourceChanged = "KP2009";

    /// <summary>The source is not a regular file (a FIFO, a device such as /dev/zero, a socket, a folder), links followed; it is never opened.</summary>
    public const string NotARegularFile = "KP2010";

    /// <summary>The source file is larger than KoalaPicMaxSourceBytes; it is never read.</summary>
    public const string SourceTooLarge = "KP2011";

    /// <summary>The output would have more pixels than KoalaPicMaxPixels (Width/Height with Enlarge, an SVG drawn large).</summary>
    public const string OutputTooManyPixels = "KP2012";

    /// <summary>Warning: the output is larger than its source (report field larger_than_source).</summary>
    public const string OutputLargerThanSource = "KP2013";

    /// <summary>Another build of the same project held the conversion lock for longer than KoalaPic waits.</summary>
    public const string ConcurrentBuild = "KP3001";

    /// <summary>A folder on the way to an output (in obj/…/koalapic/out or bin/) is a link that leads outside it: nothing is written or deleted through it.</summary>
    public const string OutputThroughLink = "KP3002";

    /// <summary>
    /// An output goes to the same place in bin/ as a file the project copies there itself (a None or Content item with
    /// CopyToOutputDirectory): one would silently replace the other. Reported by build/KoalaPic.Build.targets.
    /// </summary>
    public const string CopiedItemCollision = "KP3003";

    /// <summary>
    /// An output's path or TargetPath does not survive MSBuild's handling of item paths (or would land outside the
    /// output folder after it): the output is not handed to MSBuild.
    /// </summary>
    public const string NameNotCarried = "KP3004";

    /// <summary>An unexpected failure while converting one image (a bug): reported for that image, the others go on.</summary>
    public const string UnexpectedError = "KP0003";

    /// <summary>ImageMagick (ico, bmp, pdf output and HEIC input) cannot be loaded here, or its policy cannot be put in force.</summary>
    public const string ImageMagickUnavailable = "KP0004";

    /// <summary>
    /// No libvips is published for the build machine's RID (the .NET SDK's): reported by build/KoalaPic.Build.Natives.targets
    /// before anything is downloaded, as the engine cannot start there.
    /// </summary>
    public const string NoEngineForHost = "KP0005";

    /// <summary>HEIC output needs the system's libheif with its x265 HEVC encoder, which is not installed.</summary>
    public const string HeicEncoderMissing = "KP2006";

    /// <summary>A KoalaImage's Include is a URL; URLs go in Url metadata, with Include the image's path in the project.</summary>
    public const string UrlAsInclude = "KP4001";

    /// <summary>Url metadata is not an absolute http:// or https:// URL (file://, ftp://, relative and malformed URLs are refused).</summary>
    public const string InvalidUrl = "KP4002";

    /// <summary>Sha256 metadata is not 64 hexadecimal digits, or is set on an item without Url.</summary>
    public const string InvalidSha256 = "KP4003";

    /// <summary>A Url item has no Sha256: a warning showing the hash to pin, an error with KoalaPicRequirePinnedUrls.</summary>
    public const string UrlNotPinned = "KP4004";

    /// <summary>The downloaded bytes do not have the item's Sha256 (expected and actual are shown); nothing is converted.</summary>
    public const string HashMismatch = "KP4005";

    /// <summary>A download failed: an HTTP error status, or the server could not be reached.</summary>
    public const string DownloadFailed = "KP4006";

    /// <summary>A download took longer than KoalaPicDownloadTimeout.</summary>
    public const string DownloadTimeout = "KP4007";

    /// <summary>A download is larger than KoalaPicMaxDownloadBytes.</summary>
    public const string DownloadTooLarge = "KP4008";

    /// <summary>A download redirects too many times, or to a URL that is not http or https.</summary>
    public const string RedirectRefused = "KP4009";

    /// <summary>KoalaPicOffline is true and the URL is not in the download cache.</summary>
    public const string NotCachedOffline = "KP4010";

    /// <summary>Url has a user name or password (https://user:password@host/…): refused, and never shown, logged or sent.</summary>
    public const string UrlWithCredentials = "KP4011";

    /// <summary>Warning: the remote cache (KoalaPicRemoteCache) failed; the build converts locally and stops asking it.</summary>
    public const string RemoteCacheFailed = "KP4020";

    /// <summary>Warning: storing an entry in the remote cache (KoalaPicRemoteCachePush) failed; the build pushes nothing more.</summary>
    public const string RemoteCachePushFailed = "KP4021";

    /// <summary>The job report (report.json, KoalaPicReportPath) cannot be written.</summary>
    public const string CannotWriteReport = "KP5001";

    /// <summary>The ZIP of all outputs (KoalaPicZipPath) cannot be written.</summary>
    public const string CannotWriteZip = "KP5002";

    /// <summary>Warning: an output is larger than its item's MaxBytes (report field over_budget).</summary>
    public const string OutputOverBudget = "KP5003";

    /// <summary>Warning: the job's outputs together are larger than KoalaPicMaxTotalBytes (report field over_total_budget).</summary>
    public const string JobOverBudget = "KP5004";

    /// <summary>Warning: the CI summary (GITHUB_STEP_SUMMARY, KoalaPicSummaryPath) cannot be written.</summary>
    public const string CannotWriteSummary = "KP5005";

    /// <summary>
    /// The codes that say something is wrong with one image's content (not with the project, the machine or KoalaPic):
    /// the ones <c>KoalaPicImageErrorsAsWarnings</c> turns into warnings.
    /// </summary>
    public static readonly IReadOnlyCollection<string> BadImageCodes = new[]
    {
        CannotDecode, TooManyPixels, CannotEncode, EmptySource, NotAnImage, SourceChanged, SourceTooLarge,
    };

    public static bool IsBadImage(string code) => BadImageCodes.Contains(code);

    /// <summary>
    /// The codes about this run's exchange with the remote cache server, not about an item or an output: a build that
    /// skips the converter (nothing changed) does not talk to the server, so it must not repeat them (<see cref="LastRun"/>).
    /// </summary>
    public static readonly IReadOnlyCollection<string> RemoteCacheCodes = new[] { RemoteCacheFailed, RemoteCachePushFailed };

    public static bool IsAboutTheRemoteCache(string code) => RemoteCacheCodes.Contains(code);
}
