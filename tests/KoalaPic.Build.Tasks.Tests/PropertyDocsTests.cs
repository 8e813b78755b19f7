using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace KoalaPic.Build.Tasks.Tests;

/// <summary>
/// The KoalaPic* properties that build/*.props and *.targets read and docs/reference.md documents are the same set,
/// and each has a section with an example to paste. Private properties (_KoalaPic*) are the targets' own business.
/// </summary>
public sealed class PropertyDocsTests
{
    private static readonly string BuildFolder = Path.Combine(TaskSupport.RepositoryRoot, "build");
    private static readonly string Reference = File.ReadAllText(Path.Combine(TaskSupport.RepositoryRoot, "docs", "reference.md"));

    /// <summary>Public properties the build files read or set: $(KoalaPic…) anywhere, and elements of a PropertyGroup.</summary>
    private static SortedSet<string> BuildProperties()
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        string[] files = Directory.EnumerateFiles(BuildFolder, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".props", StringComparison.Ordinal) || f.EndsWith(".targets", StringComparison.Ordinal))
            .ToArray();
        Assert.NotEmpty(files);
        foreach (string file in files)
        {
            string text = File.ReadAllText(file);
            names.UnionWith(Regex.Matches(text, @"\$\((KoalaPic\w*)").Select(m => m.Groups[1].Value));
            names.UnionWith(XDocument.Parse(text).Descendants()
                .Where(e => e.Parent?.Name.LocalName == "PropertyGroup" && e.Name.LocalName.StartsWith("KoalaPic", StringComparison.Ordinal))
                .Select(e => e.Name.LocalName));
        }

        return names;
    }

    /// <summary>Properties the reference names: table rows and sections under "MSBuild properties", $(…), -p:… and &lt;KoalaPic…&gt; elements.</summary>
    private static SortedSet<string> DocumentedProperties()
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        names.UnionWith(Regex.Matches(Reference, @"^\| \[`(KoalaPic\w*)`\]", RegexOptions.Multiline).Select(m => m.Groups[1].Value));
        names.UnionWith(Regex.Matches(Reference, @"^### (KoalaPic\w*)\s*$", RegexOptions.Multiline).Select(m => m.Groups[1].Value));
        names.UnionWith(Regex.Matches(Reference, @"\$\((KoalaPic\w*)\)").Select(m => m.Groups[1].Value));
        names.UnionWith(Regex.Matches(Reference, @"-p:(KoalaPic\w*)=").Select(m => m.Groups[1].Value));
        names.UnionWith(Regex.Matches(Reference, @"<(KoalaPic\w*)( Condition=""[^""]*"")?>").Select(m => m.Groups[1].Value));
        return names;
    }

    /// <summary>The text of the "### name" section, up to the next heading outside a code block; null when there is none.</summary>
    private static string? Section(string name)
    {
        string[] lines = Reference.Split('\n');
        int start = Array.FindIndex(lines, l => l.TrimEnd() == "### " + name);
        if (start < 0)
        {
            return null;
        }

        bool inCode = false;
        int end = start + 1;
        for (; end < lines.Length; end++)
        {
            inCode ^= lines[end].StartsWith("```", StringComparison.Ordinal);
            if (!inCode && Regex.IsMatch(lines[end], "^#{1,3} "))
            {
                break;
            }
        }

        return string.Join("\n", lines[start..end]);
    }

    [Fact]
    public void The_build_reads_the_properties_this_test_expects_to_find()
    {
        // Guards the scan itself: a change of the build files' shape that hid every property would pass the tests below.
        SortedSet<string> build = BuildProperties();
        Assert.Contains("KoalaPicEnabled", build);
        Assert.Contains("KoalaPicCacheDir", build);
        Assert.DoesNotContain(build, n => n.StartsWith('_'));
        Assert.DoesNotContain("KoalaPicOutput", build); // an item, not a property
    }

    [Fact]
    public void Every_public_property_the_build_reads_has_a_table_row_and_a_section_with_an_example_in_reference_md()
    {
        var missing = new List<string>();
        foreach (string name in BuildProperties())
        {
            if (!Regex.IsMatch(Reference, @"^\| \[`" + name + @"`\]\(#" + name.ToLowerInvariant() + @"\)", RegexOptions.Multiline))
            {
                missing.Add(name + ": no row in the table of MSBuild properties");
            }

            string? section = Section(name);
            if (section == null)
            {
                missing.Add(name + ": no '### " + name + "' section");
            }
            else if (!section.Contains("<" + name + ">", StringComparison.Ordinal) && !section.Contains("<" + name + " Condition", StringComparison.Ordinal)
                     && !section.Contains("-p:" + name + "=", StringComparison.Ordinal))
            {
                missing.Add(name + ": its section has no example to paste (<" + name + ">…</" + name + "> or -p:" + name + "=…)");
            }
        }

        Assert.True(missing.Count == 0, "docs/reference.md lacks:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void Every_KoalaPic_property_reference_md_names_exists_in_the_build()
    {
        SortedSet<string> build = BuildProperties();
        string[] unknown = DocumentedProperties().Where(n => !build.Contains(n)).ToArray();
        Assert.True(unknown.Length == 0, "docs/reference.md names properties that build/ neither reads nor sets: " + string.Join(", ", unknown));
    }
}
