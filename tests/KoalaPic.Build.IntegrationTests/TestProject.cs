using System.Xml.Linq;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>A copy of one testassets/ project in a temporary folder, restored only from the test feed.</summary>
public sealed class TestProject : IDisposable
{
    private readonly PackageFixture package;

    private TestProject(PackageFixture package, string scenario, bool inheritPackageSources, Action<string> populate, string? folderPrefix = null)
    {
        this.package = package;
        Directory = System.IO.Directory.CreateTempSubdirectory(folderPrefix ?? "koalapic-" + scenario + "-").FullName;
        populate(Directory);
        ProjectFile = System.IO.Directory.GetFiles(Directory, "*.csproj").Single();
        File.WriteAllText(Path.Combine(Directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                {(inheritPackageSources ? "" : "<clear />")}
                <add key="koalapic-test-feed" value="{package.FeedDirectory}" />
              </packageSources>
            </configuration>
            """);
    }

    public string Directory { get; }

    public string ProjectFile { get; }

    public string BinDirectory => Path.Combine(Directory, "bin", "Debug", "net10.0");

    public string ObjOutputDirectory => Path.Combine(Directory, "obj", "Debug", "net10.0", "koalapic", "out");

    /// <param name="inheritPackageSources">Also restore from the machine's configured sources (for framework reference packs).</param>
    /// <param name="folderPrefix">The start of the project folder's name (default koalapic-&lt;scenario&gt;-), for hostile folder names.</param>
    public static TestProject Create(PackageFixture package, string scenario, bool inheritPackageSources = false, string? folderPrefix = null) =>
        new(package, scenario, inheritPackageSources, directory =>
        {
            CopyDirectory(Path.Combine(Paths.RepositoryRoot, "testassets", scenario), directory);
            // In the repository testassets/Directory.Build.props sets it; out here, the version that was packed.
            File.WriteAllText(Path.Combine(directory, "Directory.Build.props"), $"""
                <Project>
                  <PropertyGroup>
                    <KoalaPicVersion>{package.Version}</KoalaPicVersion>
                  </PropertyGroup>
                </Project>
                """);
        }, folderPrefix);

    /// <summary>A new project from one of the SDK's own templates (`dotnet new webapp -n Name`), as a new user starts.</summary>
    public static TestProject FromTemplate(PackageFixture package, string template, string name) =>
        new(package, template, inheritPackageSources: false, directory =>
        {
            DotNetResult created = DotNet.Run(directory, package.Environment, "new", template, "-n", name, "-o", directory, "--no-restore");
            if (!created.Succeeded)
            {
                throw new InvalidOperationException($"dotnet new {template} failed:\n{created}");
            }
        });

    /// <summary>The project folder's name: the assembly name of a project made by <see cref="FromTemplate"/>.</summary>
    public string Name => Path.GetFileNameWithoutExtension(ProjectFile);

    /// <summary>Copies a real image from ../shared/corpus/fixtures into the project.</summary>
    public string AddImage(string corpusName, string relativePath)
    {
        string target = Path.Combine(Directory, relativePath);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(Paths.Fixture(corpusName), target, overwrite: true);
        return target;
    }

    public string WriteFile(string relativePath, byte[] bytes)
    {
        string target = Path.Combine(Directory, relativePath);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.WriteAllBytes(target, bytes);
        return target;
    }

    public DotNetResult Build(params string[] arguments) => Run("build", arguments);

    public DotNetResult Publish(params string[] arguments) => Run("publish", arguments);

    public DotNetResult Clean(params string[] arguments) => Run("clean", arguments);

    public DotNetResult Run(string command, params string[] arguments) =>
        DotNet.Run(Directory, package.Environment, new[] { command, ProjectFile, "-nodeReuse:false" }.Concat(arguments).ToArray());

    public DotNetResult Build(Action<string, System.Diagnostics.Process> onLine, params string[] arguments) =>
        DotNet.Run(Directory, package.Environment, onLine, new[] { "build", ProjectFile, "-nodeReuse:false" }.Concat(arguments).ToArray());

    /// <summary>Replaces the KoalaImage items of the project file with the given XML.</summary>
    public void SetKoalaImages(string itemsXml)
    {
        XDocument document = XDocument.Load(ProjectFile);
        var groups = document.Root!.Elements("ItemGroup").Where(g => g.Elements("KoalaImage").Any()).ToList();
        foreach (XElement group in groups)
        {
            group.Remove();
        }

        document.Root.Add(XElement.Parse("<ItemGroup>" + itemsXml + "</ItemGroup>"));
        document.Save(ProjectFile);
    }

    public void SetProperty(string name, string value)
    {
        XDocument document = XDocument.Load(ProjectFile);
        document.Root!.Add(new XElement("PropertyGroup", new XElement(name, value)));
        document.Save(ProjectFile);
    }

    /// <summary>
    /// Where MSBuild places a diagnostic about the KoalaImage element whose line contains <paramref name="marker"/>:
    /// "(line,column)" of its '&lt;', as in <c>App.csproj(12,5): error KP1001</c>.
    /// </summary>
    public string KoalaImageAt(string marker)
    {
        string[] lines = File.ReadAllLines(ProjectFile);
        int index = Array.FindIndex(lines, l => l.Contains("<KoalaImage", StringComparison.Ordinal) && l.Contains(marker, StringComparison.Ordinal));
        if (index < 0)
        {
            throw new InvalidOperationException($"no KoalaImage with {marker} in {ProjectFile}:\n{string.Join("\n", lines)}");
        }

        return $"({index + 1},{lines[index].IndexOf('<') + 1})";
    }

    /// <summary>Every file under a folder with its last-write time, to prove a build rewrote nothing.</summary>
    public static Dictionary<string, DateTime> Timestamps(string folder) =>
        System.IO.Directory.Exists(folder)
            ? System.IO.Directory.GetFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc)
            : new Dictionary<string, DateTime>();

    /// <summary>KOALAPIC_KEEP_TEST_PROJECTS=1 keeps the projects and the package feed, to rerun a build by hand.</summary>
    public static bool KeepForInspection => System.Environment.GetEnvironmentVariable("KOALAPIC_KEEP_TEST_PROJECTS") == "1";

    public void Dispose()
    {
        if (KeepForInspection)
        {
            Console.Error.WriteLine($"KOALAPIC_KEEP_TEST_PROJECTS: kept {Directory} (NUGET_PACKAGES={package.PackagesDirectory})");
            return;
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void CopyDirectory(string source, string target)
    {
        System.IO.Directory.CreateDirectory(target);
        foreach (string file in System.IO.Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        foreach (string directory in System.IO.Directory.GetDirectories(source))
        {
            string name = Path.GetFileName(directory);
            if (name is not ("bin" or "obj"))
            {
                CopyDirectory(directory, Path.Combine(target, name));
            }
        }
    }
}

/// <summary>Raw additions to a project file.</summary>
public static class XDocumentEdit
{
    /// <summary>Appends project XML (property groups, targets) at the end of the project.</summary>
    public static void AppendToProject(string projectFile, string xml)
    {
        XDocument document = XDocument.Load(projectFile);
        foreach (XElement element in XElement.Parse("<Root>" + xml + "</Root>").Elements())
        {
            document.Root!.Add(element);
        }

        document.Save(projectFile);
    }
}
