using System;
using System.Collections;
using System.Collections.Generic;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace KoalaPic.Build.Tasks;

/// <summary>
/// An output item handed to MSBuild: its spec and a few metadata, each kept escaped (as MSBuild stores them) and
/// unescaped (as a task reads them).
/// </summary>
/// <remarks>
/// Why not <see cref="TaskItem"/>: it keeps metadata in an immutable table that each <c>SetMetadata</c> copies, about
/// 1.7 KiB for an output's five metadata, and every no-op build hands MSBuild 1,000 outputs of the last run; those
/// allocations set off a collection of MSBuild's heap inside the task (docs/performance.md, "No-op rebuilds"). MSBuild
/// takes an <see cref="ITaskItem2"/>'s escaped spec and metadata as they are.
/// </remarks>
internal sealed class OutputItem : MarshalByRefObject, ITaskItem2
{
    private readonly List<Metadata> metadata;
    private string escapedSpec;
    private string spec;

    /// <param name="spec">The spec as MSBuild reads it back from <paramref name="escapedSpec"/>.</param>
    public OutputItem(string escapedSpec, string spec, int capacity)
    {
        this.escapedSpec = escapedSpec;
        this.spec = spec;
        metadata = new List<Metadata>(capacity);
    }

    public string ItemSpec
    {
        get => spec;
        set => (spec, escapedSpec) = (value, TaskItems.Escape(value));
    }

    public string EvaluatedIncludeEscaped
    {
        get => escapedSpec;
        set => (escapedSpec, spec) = (value, new TaskItem(value).ItemSpec);
    }

    public ICollection MetadataNames => metadata.ConvertAll(m => m.Name);

    public int MetadataCount => metadata.Count;

    /// <summary>Adds a metadata whose value is already escaped, and as read back unescaped.</summary>
    public void Add(string name, string escapedValue, string value) => Set(new Metadata(name, escapedValue, value));

    public string GetMetadata(string metadataName) =>
        Find(metadataName) is int i ? metadata[i].Value : new TaskItem(escapedSpec).GetMetadata(metadataName); // well-known: FullPath, Filename…

    public string GetMetadataValueEscaped(string metadataName) =>
        Find(metadataName) is int i ? metadata[i].EscapedValue : TaskItems.Escape(GetMetadata(metadataName));

    /// <summary>MSBuild's contract: <paramref name="metadataValue"/> is escaped.</summary>
    public void SetMetadata(string metadataName, string metadataValue) =>
        Set(new Metadata(metadataName, metadataValue, TaskItems.Unescape(metadataValue)));

    public void SetMetadataValueLiteral(string metadataName, string metadataValue) =>
        Set(new Metadata(metadataName, TaskItems.Escape(metadataValue), metadataValue));

    public void RemoveMetadata(string metadataName)
    {
        if (Find(metadataName) is int i)
        {
            metadata.RemoveAt(i);
        }
    }

    public void CopyMetadataTo(ITaskItem destinationItem)
    {
        foreach (Metadata m in metadata)
        {
            if (destinationItem.GetMetadata(m.Name).Length == 0)
            {
                destinationItem.SetMetadata(m.Name, m.EscapedValue);
            }
        }

        if (destinationItem.GetMetadata("OriginalItemSpec").Length == 0)
        {
            destinationItem.SetMetadata("OriginalItemSpec", escapedSpec);
        }
    }

    public IDictionary CloneCustomMetadata() => Clone(m => m.Value);

    /// <remarks>MSBuild reads this as key/value pairs; a <see cref="Dictionary{TKey, TValue}"/> enumerates as both those and DictionaryEntry.</remarks>
    public IDictionary CloneCustomMetadataEscaped() => Clone(m => m.EscapedValue);

    private Dictionary<string, string> Clone(Func<Metadata, string> value)
    {
        var clone = new Dictionary<string, string>(metadata.Count, StringComparer.OrdinalIgnoreCase);
        foreach (Metadata m in metadata)
        {
            clone[m.Name] = value(m);
        }

        return clone;
    }

    private void Set(Metadata value)
    {
        if (Find(value.Name) is int i)
        {
            metadata[i] = value;
        }
        else
        {
            metadata.Add(value);
        }
    }

    // Metadata names are case-insensitive in MSBuild.
    private int? Find(string name)
    {
        for (int i = 0; i < metadata.Count; i++)
        {
            if (string.Equals(metadata[i].Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return null;
    }

    private readonly struct Metadata
    {
        public Metadata(string name, string escapedValue, string value) => (Name, EscapedValue, Value) = (name, escapedValue, value);

        public string Name { get; }

        public string EscapedValue { get; }

        public string Value { get; }
    }
}
