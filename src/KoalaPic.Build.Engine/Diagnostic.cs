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
    public static Diagnostic Error(string code, string message, string? file) => new(code, DiagnosticSeverity.Error, message, file);

    public static Diagnostic Warning(string code, string message, string? file) => new(code, DiagnosticSeverity.Warning, message, file);
}

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

    public const string SourceNotFound = "KP2001";
    public const string CannotDecode = "KP2002";
    public const string TooManyPixels = "KP2003";
    public const string CannotEncode = "KP2004";
    public const string CannotWrite = "KP2005";

}
