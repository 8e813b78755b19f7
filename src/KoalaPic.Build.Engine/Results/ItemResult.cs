using System;
using System.Collections.Generic;
using System.Linq;

namespace KoalaPic.Build.Engine;

public enum ItemOutcome
{
    /// <summary>Encoded in this run.</summary>
    Converted,

    /// <summary>The output on disk was already made from these bytes and settings.</summary>
    UpToDate,

    /// <summary>The output was taken from the content-addressed cache without encoding.</summary>
    FromCache,

    /// <summary>The output was taken from the remote cache (KoalaPicRemoteCache) without encoding, and stored in the local one.</summary>
    FromRemoteCache,

    Failed,
}

/// <param name="OutputFile">The absolute path of the output under the batch's output folder.</param>
/// <param name="SourceBytes">Size of the source file (0 when it could not be read).</param>
/// <param name="OutputBytes">Size of the output file (0 when failed).</param>
public sealed record ItemResult(ImageRequest Request, string OutputFile, ItemOutcome Outcome, long SourceBytes, long OutputBytes, Diagnostic? Diagnostic)
{
    public bool Succeeded => Outcome != ItemOutcome.Failed;

    /// <summary>The quality smart quality chose for the image (this run, or the run that made the output).</summary>
    public int? ChosenQuality { get; init; }

    /// <summary>The output's dimensions in pixels, when known (null for failed items and outputs of older KoalaPic versions).</summary>
    public int? Width { get; init; }

    public int? Height { get; init; }

    /// <summary>For a URL item: the bytes converted and whether this run downloaded them.</summary>
    public DownloadInfo? Download { get; init; }

    /// <summary>The placeholder the request asked for (<see cref="ImageRequest.Placeholder"/>), from this run or the run that made the output.</summary>
    public ImagePlaceholder? Placeholder { get; init; }
}

/// <param name="Items">One result per request, in request order.</param>
/// <param name="DeletedOutputs">Outputs of earlier runs that no request produces any more, now deleted.</param>
public sealed record BatchResult(IReadOnlyList<ItemResult> Items, IReadOnlyList<string> DeletedOutputs, TimeSpan Elapsed)
{
    public int Converted => Items.Count(i => i.Outcome == ItemOutcome.Converted);

    public int UpToDate => Items.Count(i => i.Outcome is ItemOutcome.UpToDate or ItemOutcome.FromCache or ItemOutcome.FromRemoteCache);

    /// <summary>Of <see cref="UpToDate"/>, those taken from the remote cache.</summary>
    public int FromRemoteCache => Items.Count(i => i.Outcome == ItemOutcome.FromRemoteCache);

    public int Failed => Items.Count(i => i.Outcome == ItemOutcome.Failed);
}
