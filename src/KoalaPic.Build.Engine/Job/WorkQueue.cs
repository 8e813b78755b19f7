using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Hashing;
using System.Linq;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace KoalaPic.Build.Engine;

/// <summary>An item whose output must be encoded, with what checking it found (see <c>ImageBatch.Prepare</c>).</summary>
/// <param name="Index">Its place among the batch's requests.</param>
/// <param name="SourceLength">The source's bytes when checked: they are not kept (a batch of thousands would hold every
/// source at once), but read again when the source is decoded, and must hash to <paramref name="SourceHash"/>.</param>
/// <param name="Cost">Estimated: output pixels × the format's <see cref="FormatDescriptor.EncodeCost"/>.</param>
internal sealed record PendingItem(int Index, ImageRequest Request, string OutputFile, string Key, string SettingsHash, SourceStamp Stamp, long SourceLength, byte[] SourceHash, double Cost = 0);

/// <summary>
/// The outputs of one source that must be encoded: decoded once for all of them (<see cref="ImageConverter.Decode"/>),
/// and the decoded pixels freed when the last is encoded.
/// </summary>
internal sealed class SourceWork
{
    private DecodedSource? decoded;
    private byte[]? source;
    private Exception? failure;
    private int remaining;

    public SourceWork(IReadOnlyList<PendingItem> items)
    {
        Items = items;
        remaining = items.Count;
        Units = items
            .Select(item => new WorkUnit(this, item, item.Cost))
            .OrderByDescending(u => u.Cost)
            .ToList();
        Cost = Units.Sum(u => u.Cost);
    }

    public IReadOnlyList<PendingItem> Items { get; }

    /// <summary>Its encodes, costliest first.</summary>
    public IReadOnlyList<WorkUnit> Units { get; }

    public double Cost { get; }

    /// <summary>How the source changed since it was checked ("changed", "was deleted"), or null.</summary>
    public string? Change { get; private set; }

    /// <summary>The source's bytes, once <see cref="Decode"/> has read them again.</summary>
    public byte[] Source => source ?? throw new InvalidOperationException("The source was not read.");

    /// <summary>
    /// Reads the source again (the bytes its outputs were checked with, by their hash, or else <see cref="Change"/> says
    /// how it changed) and decodes it for all its outputs; an unexpected failure is kept and fails each output instead.
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    /// <exception cref="EngineLoadException">libvips cannot be loaded.</exception>
    public void Decode(long maxSourceBytes, long maxPixels, Action<string, int>? afterDecode, CancellationToken cancellationToken)
    {
        PendingItem first = Items[0];
        try
        {
            byte[] bytes = SourceFile.ReadAllBytes(first.Request.SourcePath, maxSourceBytes);
            if (bytes.Length != first.SourceLength || !XxHash128.Hash(bytes).AsSpan().SequenceEqual(first.SourceHash))
            {
                Change = "changed";
                return;
            }

            source = bytes;
            decoded = ImageConverter.Decode(bytes, Items.Select(i => i.Request.Options).ToList(), maxPixels, cancellationToken);
            afterDecode?.Invoke(first.Request.SourcePath, decoded.Decodes);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            Change = "was deleted";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SourceRefusedException)
        {
            Change = "changed";
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not EngineLoadException)
        {
            failure = ex;
        }
    }

    /// <summary>The decoded source, once <see cref="Decode"/> has run.</summary>
    public DecodedSource Decoded
    {
        get
        {
            if (failure != null)
            {
                ExceptionDispatchInfo.Capture(failure).Throw();
            }

            return decoded ?? throw new InvalidOperationException("The source was not decoded.");
        }
    }

    /// <summary>One output is done; after the last, the decoded pixels are freed. True when that was the last.</summary>
    public bool Release()
    {
        if (Interlocked.Decrement(ref remaining) != 0)
        {
            return false;
        }

        decoded?.Dispose();
        decoded = null;
        source = null;
        return true;
    }
}

/// <summary>One output's encode.</summary>
/// <param name="Cost">See <see cref="PendingItem.Cost"/>.</param>
internal sealed record WorkUnit(SourceWork Work, PendingItem Item, double Cost);

/// <summary>The estimated cost of an encode, by which the batch orders its work.</summary>
internal static class WorkCost
{
    /// <summary>Output pixels (from the source's header, without decoding it) × the format's factor.</summary>
    public static double Estimate(byte[] source, ConversionOptions options, long maxPixels) =>
        ImageConverter.EstimatedOutputPixels(source, options, maxPixels) * ImageFormats.Of(options.Format).EncodeCost;
}

/// <summary>
/// Hands out a batch's work to its workers: the costliest encode whose source is decoded first; when none is ready, the
/// decode of the next source (costliest first), as long as fewer than <c>maxDecoded</c> sources hold decoded pixels
/// (which bounds memory); otherwise the worker waits for a source to be finished. A worker never waits for another's
/// decode while there is other work.
/// </summary>
internal sealed class WorkQueue
{
    private readonly object gate = new();
    private readonly Queue<SourceWork> undecoded;
    private readonly List<WorkUnit> ready = new();
    private readonly Queue<int> downloads;
    private readonly int maxDecoded;
    private int decoded;
    private int decoding;
    private int unfinished;
    private bool stopped;

    /// <param name="downloadIndices">URL items, handed out after every local image: their downloads run meanwhile.</param>
    public WorkQueue(IEnumerable<SourceWork> sources, IEnumerable<int> downloadIndices, int maxDecoded)
    {
        undecoded = new Queue<SourceWork>(sources.OrderByDescending(s => s.Cost));
        downloads = new Queue<int>(downloadIndices);
        this.maxDecoded = Math.Max(1, maxDecoded);
        unfinished = undecoded.Sum(s => s.Units.Count) + downloads.Count;
    }

    /// <summary>The most sources holding decoded pixels at once so far.</summary>
    public int PeakDecoded { get; private set; }

    /// <summary>Encodes (and downloads) not yet finished, including those running.</summary>
    public int Unfinished => Volatile.Read(ref unfinished);

    /// <summary>The next job, or null when there is none left (or the batch stopped).</summary>
    public Job? Next()
    {
        lock (gate)
        {
            while (true)
            {
                if (stopped)
                {
                    return null;
                }

                if (ready.Count > 0)
                {
                    WorkUnit unit = ready[0];
                    ready.RemoveAt(0);
                    return new Job(unit, null, null);
                }

                if (undecoded.Count > 0 && decoded + decoding < maxDecoded)
                {
                    decoding++;
                    PeakDecoded = Math.Max(PeakDecoded, decoded + decoding);
                    return new Job(null, undecoded.Dequeue(), null);
                }

                if (undecoded.Count == 0 && decoding == 0 && downloads.Count > 0)
                {
                    return new Job(null, null, downloads.Dequeue());
                }

                if (undecoded.Count == 0 && decoding == 0 && downloads.Count == 0)
                {
                    return null;
                }

                Monitor.Wait(gate);
            }
        }
    }

    /// <summary>A source is decoded: its encodes join the ready ones, costliest first.</summary>
    public void Decoded(SourceWork work)
    {
        lock (gate)
        {
            decoding--;
            decoded++;
            // Stable: equal costs keep the items' order.
            List<WorkUnit> merged = ready.Concat(work.Units).OrderByDescending(u => u.Cost).ToList();
            ready.Clear();
            ready.AddRange(merged);
            Monitor.PulseAll(gate);
        }
    }

    /// <summary>An encode or download finished; <paramref name="sourceDone"/> when it was its source's last.</summary>
    public void Finished(bool sourceDone)
    {
        Interlocked.Decrement(ref unfinished);
        if (sourceDone)
        {
            lock (gate)
            {
                decoded--;
                Monitor.PulseAll(gate);
            }
        }
    }

    /// <summary>Cancelled, or libvips failed to load: every worker stops.</summary>
    public void Stop()
    {
        lock (gate)
        {
            stopped = true;
            Monitor.PulseAll(gate);
        }
    }

    /// <summary>One of: an encode, a source to decode, a URL item (its request index).</summary>
    public sealed record Job(WorkUnit? Encode, SourceWork? Decode, int? Download);
}
