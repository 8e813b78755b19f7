using System;
using System.IO;

namespace KoalaPic.Build.Engine;

/// <summary>
/// Every path of a project's job folder, <c>obj/&lt;Configuration&gt;/&lt;TargetFramework&gt;/koalapic/</c>, and of the
/// default cache, <c>obj/koalapic/cache/</c>: the one place that spells their names. The engine, the tasks and (through
/// the PrepareKoalaPicRun task's outputs) the build/ targets take them from here; docs/how-it-works.md
/// ("Files on disk") lists the same names, and a test holds the two together.
/// </summary>
public sealed class JobLayout
{
    private const string FolderName = "koalapic";

    /// <param name="directory">The job folder itself (obj/…/koalapic/).</param>
    public JobLayout(string directory)
    {
        Directory = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar) + Path.DirectorySeparatorChar;
    }

    /// <summary>The layout of a project's job folder under its IntermediateOutputPath (obj/Debug/net10.0/).</summary>
    public static JobLayout For(string projectDirectory, string intermediateOutputPath) =>
        new(Path.Combine(Path.GetFullPath(Path.Combine(projectDirectory, intermediateOutputPath)), FolderName));

    /// <summary>The job folder, with a trailing separator.</summary>
    public string Directory { get; }

    /// <summary>The outputs, each at its TargetPath.</summary>
    public string OutputDirectory => Combine("out") + Path.DirectorySeparatorChar;

    /// <summary>Outputs being written, renamed into <see cref="OutputDirectory"/> when whole (same disk, not inside it).</summary>
    public string TemporaryDirectory => Combine("tmp");

    /// <summary>What this job owns: each output, the key it was made from, the source stamp (OutputState).</summary>
    public string StateFile => Combine("state.json");

    /// <summary>Held by the build converting now, and by Clean (BuildLock).</summary>
    public string LockFile => Combine("koalapic.lock");

    /// <summary>The job report of the last run (JobReport).</summary>
    public string ReportFile => Combine("report.json");

    /// <summary>The image manifest (ImageManifest), copied to bin/ for KoalaPic.AspNetCore.</summary>
    public string ManifestFile => Combine("koalapic.manifest.json");

    /// <summary>What the last run handed MSBuild, for a build that skips the converter (<see cref="LastRun"/>).</summary>
    public string LastRunFile => Combine("last-run.json");

    /// <summary>What a conversion depends on besides the sources' bytes; rewritten only when it changes.</summary>
    public string InputsFile => Combine("inputs.txt");

    /// <summary>Written after a run without errors: the convert target's output.</summary>
    public string StampFile => Combine("converted.stamp");

    /// <summary>A file that never exists: as an output of the convert target, it makes the target run.</summary>
    public string NeverFile => Combine("always-convert.never");

    /// <summary>The manifest as a static web asset (KoalaPicServeManifest): its content root, and the copy in it.</summary>
    public string ServedDirectory => Combine("served") + Path.DirectorySeparatorChar;

    public string ServedManifestFile => Path.Combine(ServedDirectory, "_koalapic", "manifest.json");

    /// <summary>Where the natives restore (KoalaPic.Build.Natives.proj) keeps its own obj/ files.</summary>
    public string NativesRestoreDirectory => Combine("natives") + Path.DirectorySeparatorChar;

    /// <summary>The job handed to the koalapic process: one per run, so two builds at once never share one.</summary>
    public string JobFile(string hex) => Combine("job." + hex + ".json");

    /// <summary>The default KoalaPicCacheDir: obj/koalapic/cache/, shared by configurations and frameworks.</summary>
    public static string DefaultCacheDirectory(string projectDirectory, string baseIntermediateOutputPath) =>
        Path.Combine(Path.GetFullPath(Path.Combine(projectDirectory, baseIntermediateOutputPath)), FolderName, "cache") + Path.DirectorySeparatorChar;

    /// <summary>The cache's folder of downloaded Url sources.</summary>
    public static string DownloadsDirectory(string cacheDirectory) => Path.Combine(cacheDirectory, "downloads");

    /// <summary>The names above, relative to the job folder, as docs/how-it-works.md shows them (for the test that compares).</summary>
    public string[] DocumentedNames() => new[]
    {
        Relative(OutputDirectory), Relative(TemporaryDirectory) + "/", Relative(StateFile), Relative(LockFile), Relative(ReportFile),
        Relative(ManifestFile), Relative(LastRunFile), Relative(InputsFile), Relative(StampFile), Relative(ServedManifestFile),
        Relative(NativesRestoreDirectory), Relative(JobFile("<hex>")),
    };

    private string Relative(string path) => path.Substring(Directory.Length).Replace(Path.DirectorySeparatorChar, '/');

    private string Combine(string name) => Path.Combine(Directory, name);

    /// <summary>Whether two full paths name the same folder, by the file system's case rule (trailing separators ignored).</summary>
    public static bool SameDirectory(string a, string b) => string.Equals(
        Path.GetFullPath(a).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar),
        Path.GetFullPath(b).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar),
        Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
}
