using KoalaPic.Build.Engine;
using Xunit;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>The item metadata table: every row decides whether it is in the cache key, and the key follows that decision.</summary>
public class ItemMetadataTests
{
    private const string ProjectFile = "/p/p.csproj";

    /// <summary>
    /// Two valid values of every metadata, and other metadata the item needs for them to be valid. A row added to
    /// <see cref="ItemMetadata.All"/> without an entry here fails <see cref="EveryRow_HasExamples"/>.
    /// </summary>
    private static readonly Dictionary<string, (string A, string B, (string Name, string Value)[] With)> Examples = new()
    {
        ["Format"] = ("webp", "avif", []),
        ["Quality"] = ("80", "81", []),
        ["Width"] = ("640", "641", []),
        ["Height"] = ("480", "481", []),
        ["Link"] = ("img/a.webp", "img/b.webp", []),
        ["Fit"] = ("inside", "cover", [("Width", "100"), ("Height", "100")]),
        ["Position"] = ("center", "entropy", [("Width", "100"), ("Height", "100"), ("Fit", "cover")]),
        ["Enlarge"] = ("false", "true", []),
        ["Background"] = ("white", "black", []),
        ["Lossless"] = ("false", "true", [("Format", "webp")]),
        ["SmartQuality"] = ("low", "high", [("Format", "webp")]),
        ["KeepMetadata"] = ("false", "true", []),
        ["IcoSizes"] = ("16;32", "16;48", [("Format", "ico")]),
        ["OptimizeFor"] = ("x-post", "x-post", []),
        ["Widths"] = ("480;960", "320;640", []),
        ["Placeholder"] = ("color", "blur", []),
        ["Url"] = ("https://a.example/x.png", "https://b.example/x.png", [("Sha256", new string('a', 64))]),
        ["Sha256"] = (new string('a', 64), new string('b', 64), [("Url", "https://a.example/x.png")]),
        ["MaxBytes"] = ("150KB", "1.5MB", []),
        ["Effort"] = ("2", "6", [("Format", "avif")]),
    };

    [Fact]
    public void EveryRow_HasExamples()
    {
        Assert.All(ItemMetadata.All, row => Assert.True(Examples.ContainsKey(row.Name), $"Add two valid values of the new metadata '{row.Name}' to {nameof(Examples)}."));
    }

    [Fact]
    public void EveryRow_DecidesItsCacheKey_AndSaysWhyWhenNotInIt()
    {
        Assert.All(ItemMetadata.All, row =>
        {
            Assert.NotNull(row.CacheKey);
            Assert.True(row.CacheKey.InKey ? row.CacheKey.Value != null && row.CacheKey.Reason == null : !string.IsNullOrWhiteSpace(row.CacheKey.Reason), row.Name);
        });
        Assert.Throws<ArgumentException>(() => CacheKeyDecision.NotPart(" "));
    }

    [Fact]
    public void MetadataNames_AreTheTablesNames_AndJobItemKeepsEveryOne()
    {
        Assert.Equal(ItemMetadata.All.Select(m => m.Name), ImageRequest.MetadataNames);
        Assert.Equal(ImageRequest.MetadataNames.Count, ImageRequest.MetadataNames.Distinct(StringComparer.OrdinalIgnoreCase).Count());

        JobItem item = JobItem.From("img/a.png", name => "v-" + name);

        Assert.Equal(ImageRequest.MetadataNames.OrderBy(n => n), item.Metadata.Keys.OrderBy(n => n));
    }

    [Fact]
    public void EveryRowInTheKey_ChangesTheKeyText_AndEveryOtherRowDoesNot()
    {
        foreach (ItemMetadata row in ItemMetadata.All)
        {
            var (a, b, with) = Examples[row.Name];
            string keyA = KeyText(row.Name, a, with);
            string keyB = KeyText(row.Name, b, with);
            if (row.CacheKey.InKey)
            {
                Assert.True(keyA != keyB, $"{row.Name}=\"{a}\" and \"{b}\" give the same cache key text: {keyA}");
                Assert.Contains(row.CacheKey.Key + "=", keyA);
            }
            else
            {
                Assert.True(keyA == keyB, $"{row.Name} is not in the cache key ({row.CacheKey.Reason}), but changing it changed the key text: {keyA} / {keyB}");
            }
        }
    }

    [Fact]
    public void KeyText_OfEachRowInTheKey_ComesInTheTablesOrder()
    {
        string text = ConversionOptions.Default.CacheKeyText;

        Assert.Equal(ItemMetadata.All.Where(m => m.CacheKey.InKey).Select(m => m.CacheKey.Key), text.Split(';').Select(part => part.Split('=')[0]));
    }

    [Fact]
    public void EveryRow_WithACode_RejectsGarbage_WithItsCodeAndAcceptedValues()
    {
        foreach (ItemMetadata row in ItemMetadata.All.Where(m => m.Code != null))
        {
            var diagnostics = new List<Diagnostic>();
            ImageVariants.TryCreate("img/a.png", "/p/img/a.png", "/p", name => name == row.Name ? "\u0001garbage!" : "", ProjectFile, diagnostics);

            Diagnostic d = Assert.Single(diagnostics, x => x.Severity == DiagnosticSeverity.Error);
            Assert.Equal(row.Code, d.Code);
            Assert.Equal($"KoalaImage 'img/a.png': {row.Name}=\"\\u0001garbage!\" is not valid. Accepted values: {row.Accepted}.", d.Message);
        }
    }

    private static string KeyText(string name, string value, (string Name, string Value)[] with)
    {
        var values = with.ToDictionary(w => w.Name, w => w.Value);
        values[name] = value;
        var diagnostics = new List<Diagnostic>();
        ImageRequest? request = ImageRequest.TryCreate("img/a.png", "/p/img/a.png", "/p", n => values.TryGetValue(n, out string? v) ? v : "", ProjectFile, diagnostics);
        Assert.True(request != null, $"{name}=\"{value}\": " + string.Join("; ", diagnostics.Select(d => d.Message)));
        return request!.Options.CacheKeyText;
    }
}
