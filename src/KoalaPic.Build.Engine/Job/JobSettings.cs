using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace KoalaPic.Build.Engine;

/// <summary>
/// The KoalaPic* properties a job reads: each defined here once, with its default, its accepted range and how it is
/// validated (KP1101). The targets hand them over by name; docs/reference.md documents each one.
/// </summary>
public sealed class JobSettings
{
    public const string MaxParallelism = "KoalaPicMaxParallelism";
    public const string MaxPixels = "KoalaPicMaxPixels";
    public const string MaxSourceBytes = "KoalaPicMaxSourceBytes";
    public const string ImageErrorsAsWarnings = "KoalaPicImageErrorsAsWarnings";
    public const string Offline = "KoalaPicOffline";
    public const string RequirePinnedUrls = "KoalaPicRequirePinnedUrls";
    public const string MaxDownloadBytes = "KoalaPicMaxDownloadBytes";
    public const string DownloadTimeout = "KoalaPicDownloadTimeout";
    public const string ReportPath = "KoalaPicReportPath";
    public const string ZipPath = "KoalaPicZipPath";
    public const string MaxTotalBytes = "KoalaPicMaxTotalBytes";
    public const string SummaryPath = "KoalaPicSummaryPath";

    /// <summary>The environment variable GitHub Actions sets to the file a step appends its Markdown summary to.</summary>
    public const string GitHubStepSummary = "GITHUB_STEP_SUMMARY";

    public const string RemoteCache = "KoalaPicRemoteCache";
    public const string RemoteCachePush = "KoalaPicRemoteCachePush";
    public const string RemoteCacheTimeout = "KoalaPicRemoteCacheTimeout";
    public const string RemoteCacheTokenVariable = "KoalaPicRemoteCacheTokenVariable";
    public const string RemoteCacheUserVariable = "KoalaPicRemoteCacheUserVariable";
    public const string RemoteCachePasswordVariable = "KoalaPicRemoteCachePasswordVariable";

    public static readonly IReadOnlyList<string> PropertyNames = new[]
    {
        MaxParallelism, MaxPixels, MaxSourceBytes, ImageErrorsAsWarnings, Offline, RequirePinnedUrls, MaxDownloadBytes, DownloadTimeout, ReportPath, ZipPath, MaxTotalBytes, SummaryPath,
        RemoteCache, RemoteCachePush, RemoteCacheTimeout, RemoteCacheTokenVariable, RemoteCacheUserVariable, RemoteCachePasswordVariable,
    };

    /// <summary>Images converted at once; 0 in the property means <see cref="ImageBatch.DefaultParallelism"/>.</summary>
    public int Parallelism { get; private set; }

    public long PixelLimit { get; private set; }

    public long SourceByteLimit { get; private set; }

    /// <summary>Bad-image errors (<see cref="DiagnosticCodes.BadImageCodes"/>) are reported as warnings.</summary>
    public bool BadImagesAsWarnings { get; private set; }

    public DownloadSettings Downloads { get; private set; } = new();

    /// <summary>A second place for report.json; "" for none.</summary>
    public string Report { get; private set; } = "";

    /// <summary>Where the ZIP of all outputs goes; "" for none.</summary>
    public string Zip { get; private set; } = "";

    /// <summary>The budget of all outputs together, in bytes; null for none.</summary>
    public long? TotalByteLimit { get; private set; }

    /// <summary>A file the CI summary is appended to (besides GITHUB_STEP_SUMMARY); "" for none.</summary>
    public string Summary { get; private set; } = "";

    /// <summary>The shared cache server (KoalaPicRemoteCache*); null when none is set or its URL is refused.</summary>
    public RemoteCacheSettings? Remote { get; private set; }

    /// <summary>The settings, with one KP1101 error in <paramref name="diagnostics"/> per invalid value (its default is used).</summary>
    public static JobSettings Parse(IReadOnlyDictionary<string, string> properties, string projectFile, ICollection<Diagnostic> diagnostics)
    {
        var parser = new Parser(properties, projectFile, diagnostics);
        int parallelism = (int)parser.Number(MaxParallelism, 0, 0, 1024);
        return new JobSettings
        {
            Parallelism = parallelism > 0 ? parallelism : ImageBatch.DefaultParallelism,
            PixelLimit = parser.Number(MaxPixels, ImageConverter.DefaultMaxPixels, 1, long.MaxValue),
            SourceByteLimit = parser.Number(MaxSourceBytes, SourceFile.DefaultMaxBytes, 1, long.MaxValue),
            BadImagesAsWarnings = parser.Bool(ImageErrorsAsWarnings),
            Downloads = new DownloadSettings
            {
                Offline = parser.Bool(Offline),
                RequirePinned = parser.Bool(RequirePinnedUrls),
                MaxBytes = parser.Number(MaxDownloadBytes, DownloadSettings.DefaultMaxBytes, 1, long.MaxValue),
                TimeoutSeconds = parser.Number(DownloadTimeout, (long)DownloadSettings.DefaultTimeoutSeconds, 1, 86_400),
            },
            Report = parser.Text(ReportPath),
            Zip = parser.Text(ZipPath),
            TotalByteLimit = parser.Size(MaxTotalBytes),
            Summary = parser.Text(SummaryPath),
            Remote = ParseRemote(parser, projectFile, diagnostics),
        };
    }

    private static RemoteCacheSettings? ParseRemote(Parser parser, string projectFile, ICollection<Diagnostic> diagnostics)
    {
        string url = parser.Text(RemoteCache);
        var settings = new RemoteCacheSettings
        {
            Push = parser.Bool(RemoteCachePush),
            TimeoutSeconds = parser.Number(RemoteCacheTimeout, (long)RemoteCacheSettings.DefaultTimeoutSeconds, 1, 3_600),
            TokenVariable = parser.Text(RemoteCacheTokenVariable),
            UserVariable = parser.Text(RemoteCacheUserVariable),
            PasswordVariable = parser.Text(RemoteCachePasswordVariable),
        };
        if (url.Length == 0)
        {
            return null;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Host.Length == 0
            || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            parser.Invalid(RemoteCache, UrlSource.Redact(url), "an absolute http:// or https:// URL without query, such as https://cache.example.com/koalapic/, or empty for none");
            return null;
        }

        if (uri.UserInfo.Length > 0 || UrlSource.HasUserInfo(url))
        {
            // As for image URLs: a password in the project file would reach the log, the report and every redirect.
            diagnostics.Add(Diagnostic.Error(
                DiagnosticCodes.UrlWithCredentials,
                $"{RemoteCache}=\"{UrlSource.Redact(url)}\" has a user name or password in it, which KoalaPic refuses: it is never sent, logged or stored. Remove it from the URL and name the environment variables that hold it: {RemoteCacheTokenVariable}, or {RemoteCacheUserVariable} and {RemoteCachePasswordVariable}.",
                projectFile));
            return null;
        }

        return settings with { BaseUrl = uri.AbsoluteUri.EndsWith("/", StringComparison.Ordinal) ? uri.AbsoluteUri : uri.AbsoluteUri + "/" };
    }

    /// <summary>
    /// Where KoalaPicZipPath or KoalaPicReportPath puts its file. A bare file name goes beside the build output: that is
    /// what <c>$(OutDir)images.zip</c> written in the project file becomes, since MSBuild defines OutDir only after
    /// the project body. A relative path with a folder is resolved against the project folder; an absolute one is kept.
    /// </summary>
    public static string ArtifactPath(string value, string projectDirectory, string outputDirectory)
    {
        string path = value.Trim();
        bool bareName = !Path.IsPathRooted(path) && path.IndexOfAny(new[] { '/', '\\' }) < 0 && outputDirectory.Length > 0;
        return Path.GetFullPath(Path.Combine(bareName ? Path.Combine(projectDirectory, outputDirectory) : projectDirectory, path));
    }

    private sealed class Parser
    {
        private readonly IReadOnlyDictionary<string, string> properties;
        private readonly string projectFile;
        private readonly ICollection<Diagnostic> diagnostics;

        public Parser(IReadOnlyDictionary<string, string> properties, string projectFile, ICollection<Diagnostic> diagnostics)
        {
            this.properties = properties;
            this.projectFile = projectFile;
            this.diagnostics = diagnostics;
        }

        public string Text(string name) => properties.TryGetValue(name, out string? value) ? (value ?? "").Trim() : "";

        public long Number(string name, long fallback, long min, long max)
        {
            string value = Text(name);
            if (value.Length == 0)
            {
                return fallback;
            }

            if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long parsed) && parsed >= min && parsed <= max)
            {
                return parsed;
            }

            Invalid(name, value, $"a whole number from {min} to {max}, or empty for the default ({fallback})");
            return fallback;
        }

        /// <summary>A size such as 2MB (<see cref="ByteSize"/>); null when empty or invalid (then with KP1101).</summary>
        public long? Size(string name)
        {
            string value = Text(name);
            if (value.Length == 0)
            {
                return null;
            }

            if (ByteSize.TryParse(value, out long bytes))
            {
                return bytes;
            }

            Invalid(name, value, ByteSize.AcceptedValues + ", or empty for no budget");
            return null;
        }

        public bool Bool(string name)
        {
            string value = Text(name);
            if (value.Length == 0 || value.Equals("false", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            if (value.Equals("true", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            Invalid(name, value, "true, false, or empty for the default (false)", "true", "false");
            return false;
        }

        /// <param name="choices">The valid names of an enumerated property, for a "did you mean" suggestion.</param>
        public void Invalid(string name, string value, string accepted, params string[] choices) =>
            diagnostics.Add(Diagnostic.Error(DiagnosticCodes.InvalidProperty, $"{name}=\"{value}\" is not valid. Accepted values: {accepted}.{Suggestion.DidYouMean(value, choices)}", projectFile));
    }
}
