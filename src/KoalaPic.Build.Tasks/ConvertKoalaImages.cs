using System;
using System.Linq;
using System.Threading;
using KoalaPic.Build.Engine;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace KoalaPic.Build.Tasks;

/// <summary>
/// Hands the KoalaImage items and the KoalaPic* properties to the engine's <see cref="ImageJob"/>, in this process or
/// in the koalapic process, and logs what it returns. Every decision is the engine's.
/// </summary>
public sealed class ConvertKoalaImages : Task, ICancelableTask
{
    private readonly CancellationTokenSource cancellation = new();

    [Required] public ITaskItem[] Images { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The KoalaPic* properties: ItemSpec is the name (<see cref="JobSettings.PropertyNames"/>), Value its value.</summary>
    public ITaskItem[] Properties { get; set; } = Array.Empty<ITaskItem>();

    [Required] public string ProjectDirectory { get; set; } = "";

    public string ProjectFile { get; set; } = "";

    [Required] public string IntermediateDirectory { get; set; } = "";

    [Required] public string CacheDirectory { get; set; } = "";

    /// <summary>OutDir: where outputs are deployed; a failed image's stale copy there is removed.</summary>
    public string OutputDirectory { get; set; } = "";

    /// <summary>$(StaticWebAssetBasePath), put in front of the manifest's URLs.</summary>
    public string UrlBasePath { get; set; } = "";

    /// <summary>The project file and Directory.Build.props/targets, whose wildcard KoalaImage patterns are checked (KP1023).</summary>
    public string[] DeclaringFiles { get; set; } = Array.Empty<string>();

    /// <summary>The folders of libvips and Magick.Native in the NuGet folder, and the host RID they are for; empty to probe beside the task.</summary>
    public string LibvipsDirectory { get; set; } = "";

    public string MagickDirectory { get; set; } = "";

    public string HostRuntimeIdentifier { get; set; } = "";

    /// <summary>KoalaPicOutOfProcess: convert in the koalapic process. Always so on .NET Framework MSBuild.</summary>
    public bool OutOfProcess { get; set; }

    public string EngineProcessPath { get; set; } = "";

    /// <summary>The dotnet executable that runs koalapic (DOTNET_HOST_PATH); empty means dotnet on PATH.</summary>
    public string DotNetHostPath { get; set; } = "";

    /// <summary>The converted files, with TargetPath (relative to the output folder) and KoalaPic* metadata.</summary>
    [Output] public ITaskItem[] ConvertedImages { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The report and ZIP written where KoalaPicReportPath and KoalaPicZipPath say, for Clean.</summary>
    [Output] public ITaskItem[] WrittenFiles { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The warnings logged (ItemSpec the code; File, Message), which a build that skips the task logs again.</summary>
    [Output] public ITaskItem[] Warnings { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The images of the batch (variants counted), as in the summary, which a build that skips the task repeats.</summary>
    [Output] public int ImageCount { get; set; }

    public void Cancel() => cancellation.Cancel();

    public override bool Execute()
    {
        var input = new JobInput
        {
            Items = Images.Select(i => JobItem.From(i.ItemSpec, i.GetMetadata)).ToList(),
            Properties = Properties.ToDictionary(p => p.ItemSpec, p => p.GetMetadata("Value"), StringComparer.OrdinalIgnoreCase),
            ProjectDirectory = ProjectDirectory,
            ProjectFile = ProjectFile,
            IntermediateDirectory = IntermediateDirectory,
            CacheDirectory = CacheDirectory,
            OutputDirectory = OutputDirectory,
            UrlBasePath = UrlBasePath,
            DeclaringFiles = DeclaringFiles.ToList(),
            Natives = new NativeLocations(NullIfEmpty(LibvipsDirectory), NullIfEmpty(MagickDirectory), NullIfEmpty(HostRuntimeIdentifier)),
        };

        // libvips cannot be loaded into .NET Framework, so Visual Studio's MSBuild converts in the koalapic process;
        // a job without items needs no image code and runs here.
        JobResult result = (OutOfProcess || IsNetFramework) && input.Items.Count > 0
            ? OutOfProcessJob.Run(DotNetHostPath, EngineProcessPath, input, LogLine, cancellation.Token)
            : ImageJob.Run(input, LogLine, cancellation.Token);
        foreach (Diagnostic d in result.Diagnostics)
        {
            if (d.Severity == DiagnosticSeverity.Error)
            {
                Log.LogError(null, d.Code, null, d.File, 0, 0, 0, 0, d.Message);
            }
            else
            {
                Log.LogWarning(null, d.Code, null, d.File, 0, 0, 0, 0, d.Message);
            }
        }

        result.Log.ForEach(LogLine);
        ConvertedImages = result.Outputs.Select(ToItem).ToArray();
        Warnings = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning)
            .Select(d => (ITaskItem)new TaskItem(d.Code, new System.Collections.Generic.Dictionary<string, string> { ["File"] = d.File ?? "", ["Message"] = d.Message }))
            .ToArray();
        ImageCount = result.ImageCount;
        WrittenFiles = result.WrittenFiles.Select(f => (ITaskItem)new TaskItem(f)).ToArray();
        return result.Succeeded;
    }

    private static string? NullIfEmpty(string text) => text.Trim().Length == 0 ? null : text.Trim();

    private void LogLine(JobLog line) => Log.LogMessage(
        line.Level switch { JobLogLevel.High => MessageImportance.High, JobLogLevel.Normal => MessageImportance.Normal, _ => MessageImportance.Low },
        line.Text);

    private static ITaskItem ToItem(JobOutput output)
    {
        var item = new TaskItem(output.File);
        item.SetMetadata("TargetPath", output.TargetPath.Replace('/', System.IO.Path.DirectorySeparatorChar));
        item.SetMetadata("KoalaPicSource", output.ItemSpec);
        item.SetMetadata("KoalaPicFormat", output.Format);
        if (output.Width is int width && output.Height is int height)
        {
            item.SetMetadata("KoalaPicWidth", width.ToString(System.Globalization.CultureInfo.InvariantCulture));
            item.SetMetadata("KoalaPicHeight", height.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return item;
    }

#if NETFRAMEWORK
    private static bool IsNetFramework => true;
#else
    private static bool IsNetFramework => false;
#endif
}
