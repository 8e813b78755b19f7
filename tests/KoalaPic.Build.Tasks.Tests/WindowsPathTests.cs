using KoalaPic.Build.Engine;
using Xunit;

namespace KoalaPic.Build.Tasks.Tests;

/// <summary>
/// The path rules OwnedFolder (writes and deletions only inside obj/…/out and bin/) and Link validation (KP1005) use,
/// under Windows' rules, tested here on Linux: drive letters, backslashes, UNC and \\?\ roots, names compared without
/// case, paths past 260 characters, and the names Windows changes or refuses. On Linux the engine uses the Unix rules,
/// which stay as they were.
/// </summary>
public sealed class WindowsPathTests
{
    private const string Bin = @"C:\Users\me\source\App\bin\Debug\net10.0";

    [Theory]
    [InlineData(@"C:\Users\me\source\App\bin\Debug\net10.0\img\hero.webp")]
    [InlineData(@"C:\Users\me\source\App\bin\Debug\net10.0")]
    [InlineData(@"C:\Users\me\source\App\bin\Debug\net10.0\")]
    [InlineData(@"C:/Users/me/source/App/bin/Debug/net10.0/img/hero.webp")]
    [InlineData(@"c:\users\ME\Source\app\BIN\debug\NET10.0\img\hero.webp")]
    [InlineData(@"\\?\C:\Users\me\source\App\bin\Debug\net10.0\img\hero.webp")]
    public void Under_Windows_rules_a_path_below_the_output_folder_is_inside_whatever_its_case_and_separators(string path)
    {
        Assert.True(PathRules.Windows.IsInside(path, Bin));
        Assert.True(PathRules.Windows.IsInside(path, Bin + @"\"));
    }

    [Theory]
    [InlineData(@"C:\Users\me\source\App\bin\Debug\net10.0-windows\img\hero.webp")] // a sibling that shares the prefix
    [InlineData(@"C:\Users\me\source\App\bin\Debug")]
    [InlineData(@"D:\Users\me\source\App\bin\Debug\net10.0\img\hero.webp")] // another drive
    [InlineData(@"\\server\share\Users\me\source\App\bin\Debug\net10.0\img\hero.webp")]
    [InlineData(@"C:\Users\me\source\App\bin\Debug\net10.0.webp")]
    public void Under_Windows_rules_other_folders_drives_and_shares_are_outside(string path)
    {
        Assert.False(PathRules.Windows.IsInside(path, Bin));
    }

    [Fact]
    public void Under_Windows_rules_network_shares_and_long_path_prefixes_are_the_same_folder()
    {
        Assert.True(PathRules.Windows.IsInside(@"\\build01\work\App\bin\img\a.webp", @"\\BUILD01\Work\App\bin"));
        Assert.True(PathRules.Windows.IsInside(@"\\?\UNC\build01\work\App\bin\img\a.webp", @"\\build01\work\App\bin"));
        Assert.False(PathRules.Windows.IsInside(@"\\build01\work\App\bin2\a.webp", @"\\build01\work\App\bin"));
    }

    [Fact]
    public void Paths_past_260_characters_are_compared_whole()
    {
        string deep = @"C:\" + string.Join(@"\", Enumerable.Range(0, 30).Select(i => $"folder{i:00}")) + @"\bin";
        string output = deep + @"\" + string.Join(@"\", Enumerable.Range(0, 10).Select(i => $"nested{i:00}")) + @"\hero.webp";
        Assert.True(output.Length > 300, output.Length.ToString());

        Assert.True(PathRules.Windows.IsInside(output, deep));
        Assert.True(PathRules.Windows.IsInside(@"\\?\" + output.ToUpperInvariant(), deep));
        Assert.False(PathRules.Windows.IsInside(deep + "2" + output.Substring(deep.Length), deep));
        string longLink = string.Join("/", Enumerable.Range(0, 40).Select(i => $"segment{i:00}")) + "/hero.webp";
        Assert.True(longLink.Length > 260);
        Assert.True(PathRules.Windows.IsContainedRelativePath(longLink));
        Assert.True(PathRules.Unix.IsContainedRelativePath(longLink));
    }

    [Theory]
    [InlineData(@"\img\hero.webp")] // the current drive's root
    [InlineData("/img/hero.webp")]
    [InlineData(@"C:img\hero.webp")] // relative to drive C's current folder
    [InlineData(@"C:\x.png")]
    [InlineData(@"\\server\share\hero.webp")]
    [InlineData(@"img\..\..\escaped.webp")]
    [InlineData(@"..\escaped.webp")]
    [InlineData(@"img\")]
    [InlineData(@"img\hero.webp:stream")]
    [InlineData("img/CON.webp")] // device names, with or without an extension, in any case
    [InlineData("nul.webp")]
    [InlineData("img/com1")]
    [InlineData("Lpt9.png")]
    [InlineData("aux /hero.webp")]
    [InlineData("img./hero.webp")] // Windows drops trailing dots and spaces: another folder than written
    [InlineData("img /hero.webp")]
    [InlineData("img/hero.webp.")]
    [InlineData(".. /escaped.webp")]
    [InlineData("img/a|b.webp")] // characters Windows refuses in names
    [InlineData("img/a?.webp")]
    [InlineData("img/*.webp")]
    [InlineData("img/\"quoted\".webp")]
    [InlineData("img/<a>.webp")]
    public void Under_Windows_rules_a_Link_that_escapes_or_that_Windows_would_change_is_refused(string link)
    {
        Assert.False(PathRules.Windows.IsContainedRelativePath(link));
    }

    [Theory]
    [InlineData(@"img\hero.webp")]
    [InlineData("wwwroot/img/hero.webp")]
    [InlineData(@"wwwroot\img/mixed.webp")]
    [InlineData(@"img\.\hero.webp")]
    [InlineData("CONSOLE.webp")]
    [InlineData("img/con-tour.webp")]
    [InlineData("a..b.webp")]
    [InlineData("...hidden.webp")]
    [InlineData("Ünïcödé/日本.webp")]
    public void Under_Windows_rules_an_ordinary_Link_is_accepted(string link)
    {
        Assert.True(PathRules.Windows.IsContainedRelativePath(link));
    }

    [Theory]
    [InlineData("img/CON.webp")]
    [InlineData("img./hero.webp")]
    [InlineData("img/a|b.webp")]
    [InlineData(@"\img\hero.webp")] // '\' is no root on Unix: the output is img/hero.webp, inside
    public void Under_Unix_rules_names_that_are_legal_there_stay_accepted(string link)
    {
        Assert.True(PathRules.Unix.IsContainedRelativePath(link));
    }

    [Theory]
    [InlineData("/etc/passwd.webp")]
    [InlineData(@"img\..\..\x.png")]
    [InlineData("C:/x.png")]
    [InlineData("img/a\nb.webp")]
    [InlineData("./")]
    public void Under_Unix_rules_a_Link_that_escapes_is_refused(string link)
    {
        Assert.False(PathRules.Unix.IsContainedRelativePath(link));
    }

    [Fact]
    public void Under_Unix_rules_case_is_significant_and_only_slash_separates()
    {
        Assert.False(PathRules.Unix.IsInside("/home/me/App/Bin/img/a.webp", "/home/me/App/bin"));
        Assert.False(PathRules.Unix.IsInside(@"/home/me/App/bin\img\a.webp", "/home/me/App/bin")); // one name, beside bin
        Assert.True(PathRules.Unix.IsInside("/home/me/App/bin/img/a.webp", "/home/me/App/bin/"));
    }

    [Fact]
    public void This_machine_uses_the_Unix_rules_and_OwnedFolder_follows_them()
    {
        Assert.Same(OperatingSystem.IsWindows() ? PathRules.Windows : PathRules.Unix, PathRules.Current);
        using var project = new TaskProject();
        Directory.CreateDirectory(project.Path("bin"));
        Directory.CreateDirectory(project.Path("Bin"));
        var owned = new OwnedFolder(project.Path("bin"));

        Assert.Equal(project.Path("bin", "img", "a.webp"), owned.TryResolve(Path.Combine("img", "a.webp")));
        Assert.Null(owned.TryResolve(Path.Combine("..", "Bin", "a.webp"))); // another folder on a case-sensitive disk
        Assert.Null(owned.TryResolve(Path.Combine("..", "bin2", "a.webp")));
        Assert.Null(owned.TryResolve(project.Path("bin") + "2/a.webp"));
    }
}
