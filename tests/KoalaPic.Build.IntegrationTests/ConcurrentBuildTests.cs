using Xunit.Abstractions;

namespace KoalaPic.Build.IntegrationTests;

/// <summary>Two builds of one project at the same time: the per-project lock keeps their conversions apart.</summary>
[Collection(PackageCollection.Name)]
public sealed class ConcurrentBuildTests
{
    private readonly PackageFixture package;
    private readonly ITestOutputHelper output;

    public ConcurrentBuildTests(PackageFixture package, ITestOutputHelper output)
    {
        this.package = package;
        this.output = output;
    }

    /// <summary>An IDE build and a terminal build of one project at the same time.</summary>
    [Fact]
    public void TwoBuildsOfOneProjectAtOnce_BothFinish_AndLeaveValidOutputs()
    {
        using TestProject console = TestProject.Create(package, "ConsoleApp");
        string[] images = { "2569067123_aca715a2ee_o.jpg", "concert.jpg", "Landscape_1.jpg", "Landscape_2.jpg", "gradients-rgb8.png" };
        foreach (string image in images)
        {
            console.AddImage(image, "img/" + image);
        }

        DotNetResult restore = console.Run("restore");
        Assert.True(restore.Succeeded, restore.ToString());

        Task<DotNetResult>[] builds = Enumerable.Range(0, 2).Select(_ => Task.Run(() => console.Build("--no-restore"))).ToArray();
        DotNetResult[] results = builds.Select(b => b.Result).ToArray();

        foreach (DotNetResult result in results)
        {
            // KoalaPic's part finishes in both (the second waits for the first's conversion), or one stops with the
            // clear KP3001. The SDK's own targets are not safe for two builds of one project at once (both write
            // bin/…/ConsoleApp.deps.json and the app's DLL: seen once as MSB4018 from GenerateDepsFile), so a failure
            // of theirs is tolerated here; any other KoalaPic error, or a KoalaPic frame in a stack trace, is not.
            Assert.DoesNotMatch(@"error KP(?!3001)", result.Output);
            Assert.DoesNotMatch(@"\bat KoalaPic\.", result.Output);
            Assert.DoesNotMatch(@"MSB4018: The ""ConvertKoalaImages"" task", result.Output);
        }

        Assert.Contains(results, r => r.Succeeded);

        output.WriteLine(string.Join("\n", results.Select(r => $"exit {r.ExitCode}: {r.KoalaPicLines.LastOrDefault()}")));
        foreach (string image in images)
        {
            ImageFile converted = ImageFile.Read(Path.Combine(console.ObjOutputDirectory, "img", Path.ChangeExtension(image, ".webp")));
            Assert.Equal("VipsForeignLoadWebpBuffer", converted.Loader);
        }

        DotNetResult after = console.Build();
        Assert.True(after.Succeeded, after.ToString());
        Assert.StartsWith($"KoalaPic: {images.Length} images, 0 converted, {images.Length} up to date, ", after.Summary);
    }
}
