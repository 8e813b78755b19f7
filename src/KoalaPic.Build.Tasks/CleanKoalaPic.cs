using System;
using System.Collections.Generic;
using KoalaPic.Build.Engine;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace KoalaPic.Build.Tasks;

/// <summary>
/// <c>dotnet clean</c>'s part for KoalaPic (<see cref="JobClean"/>): the job folder, the default cache, and
/// KoalaPicReportPath's file, under the project's lock.
/// </summary>
public sealed class CleanKoalaPic : Task
{
    [Required] public string ProjectDirectory { get; set; } = "";
    public string ProjectFile { get; set; } = "";
    [Required] public string IntermediateOutputPath { get; set; } = "";
    public string BaseIntermediateOutputPath { get; set; } = "obj";

    /// <summary>$(KoalaPicCacheDir): empty for the default cache, which goes; a folder of the user's own is kept.</summary>
    public string CacheDirectory { get; set; } = "";

    /// <summary>$(OutDir) and $(KoalaPicReportPath): where the report's copy went (JobSettings.ArtifactPath).</summary>
    public string OutputDirectory { get; set; } = "";
    public string ReportPath { get; set; } = "";

    public override bool Execute()
    {
        string defaultCache = JobLayout.DefaultCacheDirectory(ProjectDirectory, BaseIntermediateOutputPath);
        bool usesDefaultCache = CacheDirectory.Trim().Length == 0
            || JobLayout.SameDirectory(System.IO.Path.Combine(ProjectDirectory, CacheDirectory.Trim()), defaultCache);
        var files = new List<string>();
        if (ReportPath.Trim().Length > 0)
        {
            files.Add(JobSettings.ArtifactPath(ReportPath, ProjectDirectory, OutputDirectory));
        }

        List<Diagnostic> diagnostics = JobClean.Run(
            JobLayout.For(ProjectDirectory, IntermediateOutputPath),
            usesDefaultCache ? defaultCache : null,
            files,
            ProjectFile,
            TimeSpan.FromSeconds(ImageBatch.DefaultLockTimeoutSeconds));
        diagnostics.ForEach(d => TaskItems.Log(Log, d));
        return !Log.HasLoggedErrors;
    }
}
