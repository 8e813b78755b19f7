using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using KoalaPic.Build.Engine;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace KoalaPic.Build.Tasks;

/// <summary>
/// KP3003: an output that goes to the same place in bin/ as a file the project copies there itself (a None or Content
/// item with CopyToOutputDirectory). MSBuild would copy both, and whichever came last would silently win.
/// </summary>
public sealed class CheckKoalaPicCopies : Task
{
    /// <summary>The outputs MSBuild copies to bin/ (ContentWithTargetPath from KoalaPicOutput).</summary>
    public ITaskItem[] Outputs { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The project's items with a TargetPath (ContentWithTargetPath, _NoneWithTargetPath); those not copied are ignored.</summary>
    public ITaskItem[] CopiedItems { get; set; } = Array.Empty<ITaskItem>();

    public string ProjectFile { get; set; } = "";

    private static readonly StringComparer PathComparer =
        Path.DirectorySeparatorChar == '\\' ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

    public override bool Execute()
    {
        var outputs = new Dictionary<string, ITaskItem>(PathComparer);
        foreach (ITaskItem output in Outputs)
        {
            outputs[Normalize(output.GetMetadata("TargetPath"))] = output;
        }

        foreach (ITaskItem copied in CopiedItems)
        {
            string copy = copied.GetMetadata("CopyToOutputDirectory");
            if (copied.GetMetadata("KoalaPicSource").Length > 0 || copy.Length == 0 || copy.Equals("Never", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            string targetPath = copied.GetMetadata("TargetPath");
            if (outputs.TryGetValue(Normalize(targetPath), out ITaskItem? output))
            {
                TaskItems.Log(Log, Diagnostic.Error(
                    DiagnosticCodes.CopiedItemCollision,
                    $"KoalaImage '{output.GetMetadata("KoalaPicSource")}': its output '{targetPath}' goes to the same place in the output folder as '{copied.ItemSpec}', which the project copies there too (CopyToOutputDirectory={copy}); one would silently replace the other. Set Link on the KoalaImage, or CopyToOutputDirectory=\"Never\" on the other item.",
                    ProjectFile));
            }
        }

        return !Log.HasLoggedErrors;
    }

    private static string Normalize(string targetPath) => targetPath.Replace('\\', '/').TrimStart('/');
}
