using System;
using System.Linq;
using System.Threading;
using KoalaPic.Build.Engine;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace KoalaPic.Build.Tasks;

/// <summary>
/// Runs <see cref="EngineWarmUp"/> on a background thread and returns at once, at the start of a build that will
/// convert images in-process, so that starting libvips and compiling the conversion code overlap with MSBuild's own
/// targets (reference resolution, the compiler) instead of delaying the first images. ConvertKoalaImages later finds
/// the engine warm, in the same MSBuild node and task load context. Does nothing on .NET Framework MSBuild, which
/// converts in the koalapic process.
/// </summary>
public sealed class WarmUpKoalaPicEngine : Task
{
    /// <summary>The Format metadata of the KoalaImage items (lists and invalid values allowed: only valid names count).</summary>
    public string[] Formats { get; set; } = Array.Empty<string>();

    public override bool Execute()
    {
#if !NETFRAMEWORK
        var formats = Formats
            .SelectMany(f => f.Split(';', ','))
            .Select(f => ImageFormats.TryParse(f, out ImageFormat format) ? format : (ImageFormat?)null)
            .Where(f => f != null)
            .Select(f => f!.Value)
            .DefaultIfEmpty(ImageFormat.Jpeg)
            .Distinct()
            .ToList();
        var thread = new Thread(() => EngineWarmUp.Run(formats))
        {
            // A background thread never keeps a finished build's process alive.
            IsBackground = true,
            Name = "KoalaPic engine warm-up",
        };
        thread.Start();
        Log.LogMessage(MessageImportance.Low, $"KoalaPic: warming up the engine for {string.Join(", ", formats.Select(ImageFormats.Name))} in the background");
#endif
        return true;
    }
}
