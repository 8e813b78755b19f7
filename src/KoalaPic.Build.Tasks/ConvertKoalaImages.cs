using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using KoalaPic.Build.Engine;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace KoalaPic.Build.Tasks;

/// <summary>
/// Hands the KoalaImage items and the KoalaPic* properties to the engine's <see cref="ImageJob"/>, in this process or
/// in the koalapic process, and logs what it returns. Every decision is the engine's; each parameter is a
/// <see cref="JobInput"/> field of the same name (docs/how-it-works.md).
/// </summary>
public sealed class ConvertKoalaImages : Task, ICancelableTask
{
    private readonly CancellationTokenSource cancellation = new();

    [Required] public ITaskItem[] Images { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The KoalaPic* properties: ItemSpec the name (<see cref="JobSettings.PropertyNames"/>), Value the value.</summary>
    public ITaskItem[] Properties { get; set; } = Array.Empty<ITaskItem>();

    [Required] public string ProjectDirectory { get; set; } = "";
    public string ProjectFile { get; set; } = "";
    [Required] public string IntermediateDirectory { get; set; } = "";
    [Required] public string CacheDirectory { get; set; } = "";

    /// <summary>obj/ (BaseIntermediateOutputPath): the default cache in it must not lead outside it through a link.</summary>
    public string BaseIntermediateDirectory { get; set; } = "";
    public string OutputDirectory { get; set; } = "";
    public string UrlBasePath { get; set; } = "";
    public string[] DeclaringFiles { get; set; } = Array.Empty<string>();

    /// <summary>The natives in the NuGet folder, and the host RID they are for; empty to probe beside the task.</summary>
    public string LibvipsDirectory { get; set; } = "";
    public string MagickDirectory { get; set; } = "";
    public string HostRuntimeIdentifier { get; set; } = "";

    /// <summary>KoalaPicOutOfProcess; koalapic.dll and the dotnet that runs it (empty: dotnet on PATH).</summary>
    public bool OutOfProcess { get; set; }
    public string EngineProcessPath { get; set; } = "";
    public string DotNetHostPath { get; set; } = "";

    [Output] public ITaskItem[] ConvertedImages { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The report and ZIP written outside obj/ (KoalaPicReportPath, KoalaPicZipPath), for FileWrites.</summary>
    [Output] public ITaskItem[] WrittenFiles { get; set; } = Array.Empty<ITaskItem>();

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
            BaseIntermediateDirectory = BaseIntermediateDirectory,
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
        var converted = new List<ITaskItem>();
        var refused = new List<Diagnostic>();
        string? outputRoot = TaskItems.OutputRoot(ProjectDirectory, OutputDirectory);
        foreach (JobOutput output in result.Outputs)
        {
            ITaskItem? item = TaskItems.Output(output, ProjectDirectory, outputRoot, out Diagnostic? problem);
            if (item != null)
            {
                converted.Add(item);
            }
            else
            {
                refused.Add(problem!);
            }
        }

        foreach (Diagnostic d in result.Diagnostics.Concat(refused))
        {
            TaskItems.Log(Log, d);
        }

        result.Log.ForEach(LogLine);
        ConvertedImages = converted.ToArray();
        WrittenFiles = result.WrittenFiles.Select(f => (ITaskItem)TaskItems.FileItem(f)).ToArray();
        return result.Succeeded && refused.Count == 0;
    }

    private void LogLine(JobLog line) => Log.LogMessage(
        line.Level switch { JobLogLevel.High => MessageImportance.High, JobLogLevel.Normal => MessageImportance.Normal, _ => MessageImportance.Low },
        line.Text);

    private static string? NullIfEmpty(string text) => text.Trim().Length == 0 ? null : text.Trim();

    private static bool IsNetFramework => System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.Ordinal);
}
