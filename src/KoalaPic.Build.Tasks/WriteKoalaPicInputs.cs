using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace KoalaPic.Build.Tasks;

/// <summary>
/// Writes what a conversion depends on, besides the bytes of the sources, to one file, and only when it changed: every
/// KoalaImage item with all its metadata, the source file's size and last write time, and the settings the targets pass
/// in <see cref="Values"/>. The convert target lists that file among its Inputs, so that a build where nothing changed
/// skips ConvertKoalaImages (and, in Visual Studio, the koalapic process) altogether. Touches no engine type, so it
/// never loads libvips.
/// </summary>
public sealed class WriteKoalaPicInputs : Task
{
    [Required] public ITaskItem[] Images { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The project folder, against which item paths are resolved.</summary>
    [Required] public string ProjectDirectory { get; set; } = "";

    /// <summary>Settings as name=value lines (properties the convert task receives).</summary>
    public string[] Values { get; set; } = Array.Empty<string>();

    [Required] public string File { get; set; } = "";

    /// <summary>True when an item downloads an unpinned Url (no Sha256): its bytes can change with no local change, so the target always runs.</summary>
    [Output] public bool HasUnpinnedUrl { get; set; }

    /// <summary>OutDir, and the TargetPaths of the last run's outputs, checked for folder links leading outside it.</summary>
    public string OutputDirectory { get; set; } = "";

    public string[] LastTargetPaths { get; set; } = Array.Empty<string>();

    /// <summary>True when a last output's folder in OutDir is now a link leading outside: the converter must run (KP3002).</summary>
    [Output] public bool OutputThroughLink { get; set; }

    public override bool Execute()
    {
        if (OutputDirectory.Trim().Length > 0 && LastTargetPaths.Length > 0)
        {
            var deployed = new KoalaPic.Build.Engine.OwnedFolder(Path.Combine(ProjectDirectory, OutputDirectory));
            OutputThroughLink = LastTargetPaths.Any(path => deployed.TryResolve(path) == null);
        }

        var text = new StringBuilder();
        text.Append("# KoalaPic: what the conversion depends on besides the sources' bytes. Written only when it changes.\n");
        foreach (string value in Values)
        {
            text.Append(value).Append('\n');
        }

        foreach (ITaskItem item in Images)
        {
            text.Append("item ").Append(item.ItemSpec).Append('\n');
            IDictionary metadata = item.CloneCustomMetadata();
            foreach (string name in metadata.Keys.Cast<string>().OrderBy(n => n, StringComparer.OrdinalIgnoreCase))
            {
                // A Url's credentials are never written anywhere (they are refused with KP4011).
                text.Append("  ").Append(name).Append('=').Append(KoalaPic.Build.Engine.UrlSource.Redact(metadata[name]?.ToString() ?? "")).Append('\n');
            }

            if (KoalaPic.Build.Engine.UrlSource.IsUrlItem(item.GetMetadata))
            {
                HasUnpinnedUrl |= item.GetMetadata(KoalaPic.Build.Engine.UrlSource.Sha256Metadata).Trim().Length == 0;
                continue;
            }

            try
            {
                var info = new FileInfo(Path.Combine(ProjectDirectory, item.ItemSpec));
                text.Append(info.Exists
                    ? "  source " + info.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) + " " + info.LastWriteTimeUtc.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture)
                    : "  source missing").Append('\n');
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                text.Append("  source unreadable\n");
            }
        }

        byte[] bytes = Encoding.UTF8.GetBytes(text.ToString());
        try
        {
            if (System.IO.File.Exists(File) && System.IO.File.ReadAllBytes(File).SequenceEqual(bytes))
            {
                return true;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(File))!);
            System.IO.File.WriteAllBytes(File, bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not fatal: without the file the convert target runs, and the engine decides what is up to date.
            Log.LogMessage(MessageImportance.Low, $"KoalaPic: cannot write '{File}': {ex.Message}");
            try
            {
                System.IO.File.Delete(File);
            }
            catch (Exception deleteError) when (deleteError is IOException or UnauthorizedAccessException)
            {
            }
        }

        return true;
    }
}
