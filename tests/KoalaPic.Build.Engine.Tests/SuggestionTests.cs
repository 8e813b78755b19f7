using KoalaPic.Build.Engine;
using Xunit;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>"Did you mean" for mistyped enumerated values.</summary>
public class SuggestionTests
{
    [Theory]
    [InlineData("wepb", "webp")]
    [InlineData("WEPB", "webp")]
    [InlineData(".webp", "webp")]
    [InlineData("jgp", "jpg")]
    [InlineData("pgn", "png")]
    [InlineData("aviff", "avif")]
    [InlineData("xyz", null)]
    [InlineData("jpeg2000", null)]
    [InlineData("webp", null)]
    public void Closest_Format(string typed, string? expected)
    {
        Assert.Equal(expected, Suggestion.Closest(typed, ImageFormats.Names));
    }

    [Theory]
    [InlineData("abc", "abd", 1)]
    [InlineData("abc", "acb", 1)]
    [InlineData("ca", "abc", 3)]
    [InlineData("", "abc", 3)]
    [InlineData("kitten", "sitting", 3)]
    public void Distance_IsOptimalStringAlignment(string a, string b, int expected)
    {
        Assert.Equal(expected, Suggestion.Distance(a, b));
    }

    [Theory]
    [InlineData("Format", "wepb", "KP1001", "webp")]
    [InlineData("Format", ".webp", "KP1001", "webp")]
    [InlineData("Fit", "cove", "KP1006", "cover")]
    [InlineData("Fit", "containn", "KP1006", "contain")]
    [InlineData("Position", "entrpy", "KP1007", "entropy")]
    [InlineData("Position", "centr", "KP1007", "center")]
    [InlineData("SmartQuality", "hihg", "KP1012", "high")]
    [InlineData("Placeholder", "blurr", "KP1018", "blur")]
    [InlineData("Placeholder", "blurry", "KP1018", "blur")]
    [InlineData("OptimizeFor", "favicn", "KP1015", "favicon")]
    [InlineData("OptimizeFor", "instagram-sqare", "KP1015", "instagram-square")]
    [InlineData("Enlarge", "ture", "KP1008", "true")]
    [InlineData("Lossless", "flase", "KP1011", "false")]
    public void MistypedEnumeratedValue_SuggestsTheClosest(string name, string value, string code, string suggested)
    {
        Diagnostic d = SingleError(name, value);

        Assert.Equal(code, d.Code);
        Assert.StartsWith($"KoalaImage 'img/a.png': {name}=\"{value}\" is not valid. Accepted values: ", d.Message);
        Assert.EndsWith($". Did you mean '{suggested}'?", d.Message);
    }

    [Theory]
    [InlineData("Fit", "stretch")]
    [InlineData("Format", "xyz")]
    [InlineData("Position", "top")]
    [InlineData("SmartQuality", "best")]
    [InlineData("Quality", "8O")]
    [InlineData("Link", "../a.png")]
    public void FarOrNotEnumeratedValue_GetsNoSuggestion(string name, string value)
    {
        Assert.DoesNotContain("Did you mean", SingleError(name, value).Message);
    }

    [Fact]
    public void MistypedFormatInAList_IsSuggestedForThatFormat()
    {
        var diagnostics = new List<Diagnostic>();

        Assert.Null(ImageVariants.TryCreate("img/a.png", "/p/img/a.png", "/p", name => name == "Format" ? "avif;wepb" : "", "/p/p.csproj", diagnostics));

        Diagnostic d = Assert.Single(diagnostics);
        Assert.Equal("KoalaImage 'img/a.png': Format=\"wepb\" is not valid. Accepted values: " + ImageFormats.AcceptedValues + ". Did you mean 'webp'?", d.Message);
    }

    [Fact]
    public void MistypedBooleanProperty_SuggestsTheClosest()
    {
        var diagnostics = new List<Diagnostic>();

        JobSettings.Parse(new Dictionary<string, string> { [JobSettings.Offline] = "ture" }, "/p/p.csproj", diagnostics);

        Diagnostic d = Assert.Single(diagnostics);
        Assert.Equal(DiagnosticCodes.InvalidProperty, d.Code);
        Assert.Equal("KoalaPicOffline=\"ture\" is not valid. Accepted values: true, false, or empty for the default (false). Did you mean 'true'?", d.Message);
    }

    private static Diagnostic SingleError(string name, string value)
    {
        var diagnostics = new List<Diagnostic>();
        Assert.Null(ImageVariants.TryCreate("img/a.png", "/p/img/a.png", "/p", n => n == name ? value : "", "/p/p.csproj", diagnostics));
        return Assert.Single(diagnostics);
    }
}
