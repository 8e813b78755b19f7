using System.Reflection;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace KoalaPic.Build.Tasks.Tests;

/// <summary>Paths to the shared corpus, and a throw-away project folder the tasks run against.</summary>
internal static class TaskSupport
{
    public static string RepositoryRoot => Metadata("RepositoryRoot");

    /// <summary>The shared corpus beside the checkout; never copied into the repository.</summary>
    public static string Corpus { get; } = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "corpus"));

    public static string Fixture(string name) => Path.Combine(Corpus, "fixtures", name);

    /// <summary>Assembly metadata the project file bakes in (RepositoryRoot, NuGetPackageRoot, KoalapicPath).</summary>
    public static string Metadata(string key) =>
        typeof(TaskSupport).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException(key + " assembly metadata is missing.");

    /// <summary>A KoalaImage item as MSBuild hands it to the task: the Include, and metadata as strings.</summary>
    public static ITaskItem Item(string include, params (string Name, string Value)[] metadata)
    {
        var item = new TaskItem(include);
        foreach ((string name, string value) in metadata)
        {
            item.SetMetadata(name, value);
        }

        return item;
    }
}

/// <summary>
/// A project folder in the temporary folder, with obj/ and bin/ as the targets pass them, deleted at the end of a test.
/// </summary>
internal sealed class TaskProject : IDisposable
{
    public TaskProject()
    {
        Directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "koalapic-tasktests-" + Guid.NewGuid().ToString("N").Substring(0, 12));
        System.IO.Directory.CreateDirectory(Directory);
        ProjectFile = Path("App.csproj");
        File.WriteAllText(ProjectFile, "<Project Sdk=\"Microsoft.NET.Sdk\" />\n");
    }

    public string Directory { get; }

    public string ProjectFile { get; }

    /// <summary>obj/Debug/net10.0/koalapic/, as the targets compute it (with its trailing separator).</summary>
    public string IntermediateDirectory => Path("obj", "Debug", "net10.0", "koalapic") + System.IO.Path.DirectorySeparatorChar;

    public string CacheDirectory => Path("obj", "koalapic", "cache") + System.IO.Path.DirectorySeparatorChar;

    /// <summary>OutDir as MSBuild sets it: relative to the project, with a trailing separator.</summary>
    public string OutputDirectory => "bin/Debug/net10.0/";

    public string Path(params string[] parts) => System.IO.Path.Combine(new[] { Directory }.Concat(parts).ToArray());

    /// <summary>Copies a corpus fixture into the project; returns its path relative to the project.</summary>
    public string AddFixture(string fixture, string relativePath)
    {
        string target = Path(relativePath.Split('/'));
        System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
        File.Copy(TaskSupport.Fixture(fixture), target, overwrite: true);
        return relativePath.Replace('/', System.IO.Path.DirectorySeparatorChar);
    }

    /// <summary>The convert task set up as the targets call it, on this project, with a fresh fake engine.</summary>
    public ConvertKoalaImages ConvertTask(params ITaskItem[] images) => new()
    {
        // A fresh engine per task, as MSBuild gives each task invocation its own logging context.
        BuildEngine = new FakeBuildEngine { ProjectFileOfTaskNode = ProjectFile },
        Images = images,
        ProjectDirectory = Directory,
        ProjectFile = ProjectFile,
        IntermediateDirectory = IntermediateDirectory,
        CacheDirectory = CacheDirectory,
        OutputDirectory = OutputDirectory,
        DeclaringFiles = new[] { ProjectFile },
    };

    /// <summary>The record the last run of the convert task wrote (it must exist).</summary>
    public KoalaPic.Build.Engine.LastRun LastRun() =>
        KoalaPic.Build.Engine.LastRun.TryRead(new KoalaPic.Build.Engine.JobLayout(IntermediateDirectory).LastRunFile)
        ?? throw new InvalidOperationException("the convert task wrote no record of its run");

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}

internal static class TaskExtensions
{
    public static FakeBuildEngine Engine(this ITask task) => (FakeBuildEngine)task.BuildEngine;

    /// <summary>A KoalaPic* property as the targets pass it: ItemSpec the name, Value the value.</summary>
    public static ITaskItem Property(string name, string value) => TaskSupport.Item(name, ("Value", value));
}
