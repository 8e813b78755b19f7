using System.Diagnostics;
using System.Text;
using KoalaPic.Build.Engine;
using KoalaPic.Build.Tests;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>
/// File and folder names as an attacker who can commit a file would choose them (issue 19's probes), built for real:
/// each converts to the right output or gets a KP diagnostic, nothing outside the project is read into an output or
/// written, and later builds keep working.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class HostileNameBuildTests : IDisposable
{
    private readonly PackageFixture package;
    private readonly List<IDisposable> owned = new();
    private readonly byte[] photo = File.ReadAllBytes(Paths.Fixture("concert.jpg"));

    public HostileNameBuildTests(PackageFixture package) => this.package = package;

    public void Dispose() => owned.ForEach(o => o.Dispose());

    private TestProject NewProject(string? folderPrefix = null)
    {
        // Hostile: KoalaImage Include="img/*" Format="webp" Width="600".
        var project = TestProject.Create(package, "Hostile", folderPrefix: folderPrefix);
        owned.Add(project);
        return project;
    }

    private static void AssertNoCrash(DotNetResult result)
    {
        Assert.True(result.ExitCode is 0 or 1, $"dotnet crashed (exit {result.ExitCode}):\n{result.Output}");
        foreach (string failure in new[] { "MSB4018", "MSB4184", "MSB3030", "MSB3231", "MSB4166", "   at ", "Unhandled exception", "KP0003" })
        {
            Assert.DoesNotContain(failure, result.Output);
        }
    }

    private static DotNetResult Succeeds(DotNetResult result)
    {
        AssertNoCrash(result);
        Assert.True(result.Succeeded, result.ToString());
        return result;
    }

    /// <summary>The output is the project's own photo as webp (Width="600", never enlarged), not some other image.</summary>
    private static void AssertIsThePhoto(string output)
    {
        Assert.True(File.Exists(output), $"no output '{output}'");
        ImageFile image = ImageFile.Read(output);
        Assert.Equal("VipsForeignLoadWebpBuffer", image.Loader);
        var (width, height) = ImageFile.UprightSize(Paths.Fixture("concert.jpg"));
        Assert.Equal(Math.Min(600, width), image.Width);
        Assert.Equal(height * image.Width / width, image.Height, tolerance: 1);
    }

    [Fact]
    public void SourceNamedAsAPathOutsideTheProject_ConvertsItself_AndNoByteOfTheSecretReachesBinObjOrPublish()
    {
        // The secret: an image outside the project, which MSBuild could be made to copy if a name were unescaped or split.
        string outside = Directory.CreateTempSubdirectory("koalapic-secret-").FullName;
        owned.Add(new Deletes(outside));
        byte[] secret = HostileFiles.SecretPng();
        string secretFile = Path.Combine(outside, "secret.png");
        File.WriteAllBytes(secretFile, secret);

        TestProject project = NewProject();
        string name = string.Concat(Enumerable.Repeat("..%2F", 16)) + secretFile.TrimStart('/').Replace("/", "%2F") + "|leak.png";
        Assert.True(Encoding.UTF8.GetByteCount(name) < 255, name);
        project.WriteFile("img/" + name, photo);
        string publish = Path.Combine(project.Directory, "publish");
        string besidePublish = Path.Combine(project.Directory, "leak.webp");

        Succeeds(project.Build());
        Succeeds(project.Run("publish", "-o", publish));

        AssertIsThePhoto(Path.Combine(project.BinDirectory, "img", Path.ChangeExtension(name, ".webp")));
        AssertIsThePhoto(Path.Combine(publish, "img", Path.ChangeExtension(name, ".webp")));
        Assert.False(File.Exists(besidePublish));
        Assert.Equal(new[] { secretFile }, Directory.GetFiles(outside, "*", SearchOption.AllDirectories));
        foreach (string folder in new[] { project.BinDirectory, Path.Combine(project.Directory, "obj"), publish })
        {
            foreach (string file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories))
            {
                byte[] bytes = File.ReadAllBytes(file);
                Assert.True(bytes.AsSpan().IndexOf(secret.AsSpan(secret.Length / 2, 24)) < 0, $"{file} holds bytes of the secret");
                if (file.EndsWith(".webp", StringComparison.Ordinal))
                {
                    Assert.Equal(0, HostileFiles.SecretPixelCount(bytes));
                }
            }
        }
    }

    [Fact]
    public void LinkWithAPipe_StaysInsideTheOutputFolder_OnBuildAndPublish()
    {
        TestProject project = NewProject();
        project.WriteFile("src/b.jpg", photo);
        project.SetKoalaImages("""<KoalaImage Include="src/b.jpg" Format="webp" Width="600" Link="img/b.webp|../escaped.webp" />""");
        string publish = Path.Combine(project.Directory, "out", "publish");
        // A user's file beside the publish folder, which an escaping Link would overwrite.
        string usersFile = project.WriteFile("out/escaped.webp", "the user's own file"u8.ToArray());

        Succeeds(project.Build());
        Succeeds(project.Run("publish", "-o", publish));

        AssertIsThePhoto(Path.Combine(project.BinDirectory, "img", "b.webp|..", "escaped.webp"));
        AssertIsThePhoto(Path.Combine(publish, "img", "b.webp|..", "escaped.webp"));
        Assert.False(File.Exists(Path.Combine(project.BinDirectory, "escaped.webp")));
        Assert.False(File.Exists(Path.Combine(publish, "escaped.webp")));
        Assert.Equal("the user's own file", File.ReadAllText(usersFile));
    }

    /// <summary>Names that MSBuild escapes, expands or splits on, and names with a newline: each converts to its own name.</summary>
    [Fact]
    public void NamesMSBuildWouldUnescapeSplitOrExpand_ConvertToTheirOwnNames_InEveryLaterBuildToo()
    {
        string[] names =
        {
            "pct%20sp.png", "semi%3Bcolon.png", "pipe|name.png", "semi;colon.png", "new\nline.png", "quote'single\"double.png",
            "dollar$(Configuration).png", "at@(Compile).png", "star*.png", "percent%2A%.png", "back`tick & amp.png",
        };
        TestProject project = NewProject();
        foreach (string name in names)
        {
            project.WriteFile("img/" + name, photo);
        }

        DotNetResult first = Succeeds(project.Build());
        // One photo under every name: converted once, the others from the cache.
        Assert.Matches($@"^KoalaPic: {names.Length} images, \d+ converted, \d+ up to date, [^f]*$", first.Summary);
        DotNetResult second = Succeeds(project.Build());
        Assert.StartsWith($"KoalaPic: {names.Length} images, 0 converted, {names.Length} up to date, nothing to convert (nothing changed", second.Summary);
        foreach (string name in names)
        {
            AssertIsThePhoto(Path.Combine(project.BinDirectory, "img", Path.ChangeExtension(name, ".webp")));
        }

        Assert.Equal(names.Length, Directory.GetFiles(Path.Combine(project.BinDirectory, "img")).Length);
    }

    [Fact]
    public void NameThatIsNotUtf8_GetsAKoalaPicDiagnostic_OrConverts_AndTheOthersConvert()
    {
        TestProject project = NewProject();
        project.WriteFile("img/plain.png", photo);
        string plain = project.WriteFile("img/raw.png", photo);
        // Renamed by the file system itself, to bytes that are no UTF-8: .NET cannot spell the name.
        RenameToBytes(Path.GetDirectoryName(plain)!, "raw.png", new byte[] { 0x6e, 0x6f, 0xff, 0xfe, 0x2e, 0x70, 0x6e, 0x67 }); // "no\xff\xfe.png"

        DotNetResult result = project.Build();

        AssertNoCrash(result);
        if (result.Succeeded)
        {
            AssertIsThePhoto(Path.Combine(project.BinDirectory, "img", "plain.webp"));
        }
        else
        {
            // A failed build copies nothing to bin/: the good image is converted in obj/.
            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(result.Output, @"error KP\d{4}: KoalaImage 'img/no"), result.ToString());
            AssertIsThePhoto(Path.Combine(project.ObjOutputDirectory, "img", "plain.webp"));
        }
    }

    [Fact]
    public void ProjectFolderWithAPipeAndASpace_Builds_AndCopiesTheOutputs()
    {
        // (';' in a project's folder is beyond NuGet's restore itself: "SettingsLoadingContext requires a rooted path".)
        TestProject project = NewProject(folderPrefix: "koalapic-pipe|and space-");
        project.WriteFile("img/photo.png", photo);

        Succeeds(project.Build());
        DotNetResult second = Succeeds(project.Build());

        Assert.Contains("nothing changed since the last build", second.Summary);
        AssertIsThePhoto(Path.Combine(project.BinDirectory, "img", "photo.webp"));
    }

    [Fact]
    public void DefaultCacheThroughAPlantedLink_IsKP3002_NothingIsWrittenThroughIt_AndCleanRemovesOnlyTheLink()
    {
        string outside = Directory.CreateTempSubdirectory("koalapic-cache-target-").FullName;
        owned.Add(new Deletes(outside));
        File.WriteAllText(Path.Combine(outside, "keep.txt"), "someone else's folder");
        TestProject project = NewProject();
        project.WriteFile("img/photo.png", photo);
        Directory.CreateDirectory(Path.Combine(project.Directory, "obj", "koalapic"));
        Directory.CreateSymbolicLink(Path.Combine(project.Directory, "obj", "koalapic", "cache"), outside);

        DotNetResult build = project.Build();

        AssertNoCrash(build);
        Assert.False(build.Succeeded);
        Assert.Contains($"error {DiagnosticCodes.OutputThroughLink}: ", build.Output);
        Assert.Equal(new[] { Path.Combine(outside, "keep.txt") }, Directory.GetFileSystemEntries(outside, "*", SearchOption.AllDirectories));

        Succeeds(project.Clean());
        Assert.False(Path.Exists(Path.Combine(project.Directory, "obj", "koalapic", "cache")));
        Assert.Equal("someone else's folder", File.ReadAllText(Path.Combine(outside, "keep.txt")));
    }

    [Fact]
    public void OutputAtTheSamePlaceAsACopiedItem_IsKP3003_NamingBoth()
    {
        TestProject project = NewProject();
        project.WriteFile("img/photo.png", photo);
        project.WriteFile("static/photo.webp", "not the output"u8.ToArray());
        XDocumentEdit.AppendToProject(project.ProjectFile, """
            <ItemGroup>
              <None Include="static/photo.webp" Link="img/photo.webp" CopyToOutputDirectory="PreserveNewest" />
            </ItemGroup>
            """);

        DotNetResult result = project.Build();

        AssertNoCrash(result);
        Assert.False(result.Succeeded);
        string error = result.Output.Split('\n').First(l => l.Contains($"error {DiagnosticCodes.CopiedItemCollision}: ", StringComparison.Ordinal));
        Assert.Contains("KoalaImage 'img/photo.png'", error);
        Assert.Contains("'static/photo.webp'", error);
    }

    [Fact]
    public void Clean_RemovesTheJobFolder_TheDefaultCache_AndKoalaPicReportPathsFile()
    {
        TestProject project = NewProject();
        project.WriteFile("img/photo.png", photo);
        project.SetProperty("KoalaPicReportPath", "artifacts/koalapic-report.json");
        Succeeds(project.Build());
        string report = Path.Combine(project.Directory, "artifacts", "koalapic-report.json");
        string jobFolder = Path.GetDirectoryName(project.ObjOutputDirectory)!;
        Assert.True(File.Exists(report));
        Assert.True(Directory.Exists(jobFolder));

        Succeeds(project.Clean());

        Assert.False(File.Exists(report));
        Assert.False(Directory.Exists(jobFolder));
        Assert.False(Directory.Exists(Path.Combine(project.Directory, "obj", "koalapic", "cache")));
        Assert.False(File.Exists(Path.Combine(project.BinDirectory, "img", "photo.webp")));
    }

    [Fact]
    public async System.Threading.Tasks.Task Clean_WaitsForTheBuildHoldingTheProjectsLock()
    {
        TestProject project = NewProject();
        project.WriteFile("img/photo.png", photo);
        Succeeds(project.Build());
        var layout = new JobLayout(Path.GetDirectoryName(project.ObjOutputDirectory)!);

        System.Threading.Tasks.Task<DotNetResult> clean;
        // A converting build holds the lock file opened with FileShare.None: the test holds it the same way.
        using (new FileStream(layout.LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            clean = System.Threading.Tasks.Task.Run(() => project.Clean());
            // While the lock is held, clean must not have removed anything, however long it has been waiting.
            WaitUntilCleanIsWaiting(project, layout, clean);
            Assert.True(File.Exists(layout.StateFile), "clean deleted files while a build held the lock");
            Assert.False(clean.IsCompleted, "clean finished while a build held the lock");
        }

        Succeeds(await clean);
        Assert.False(Directory.Exists(layout.Directory));
    }

    /// <summary>Until clean has started (its MSBuild node is past restore) and had ample time to delete, were it not waiting.</summary>
    private static void WaitUntilCleanIsWaiting(TestProject project, JobLayout layout, System.Threading.Tasks.Task clean)
    {
        // MSBuild's own Clean deletes bin/'s files before KoalaPicClean runs (AfterTargets="Clean"): wait for that, then
        // give a clean that ignored the lock ample time to delete.
        string assembly = Path.Combine(project.BinDirectory, project.Name + ".dll");
        for (int i = 0; i < 1200 && !clean.IsCompleted && File.Exists(layout.StateFile) && File.Exists(assembly); i++)
        {
            Thread.Sleep(100);
        }

        Thread.Sleep(3000);
    }

    private static void RenameToBytes(string folder, string name, byte[] newName)
    {
        // /bin/mv with the new name given as raw bytes through printf: no .NET string can hold them.
        using Process process = Process.Start(new ProcessStartInfo("/bin/sh", new[] { "-c", "mv -- \"$1\" \"$(printf \"$2\")\"", "sh", name, string.Concat(newName.Select(b => $"\\{Convert.ToString(b, 8).PadLeft(3, '0')}")) })
        {
            WorkingDirectory = folder,
        })!;
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }

    private sealed class Deletes(string folder) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
