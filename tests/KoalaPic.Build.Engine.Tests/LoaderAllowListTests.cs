using System.Collections.Concurrent;
using System.Reflection;
using KoalaPic.Build.Engine;
using NetVips;
using Xunit;
using static KoalaPic.Build.Engine.Tests.TestSupport;

namespace KoalaPic.Build.Engine.Tests;

/// <summary>
/// libvips' loader allow-list (<see cref="VipsRuntime"/>): every loader class outside it is blocked in libvips itself,
/// and applying it again, as a second engine copy in the same process does on the one native libvips, never blocks an
/// allowed loader for a conversion running meanwhile.
/// </summary>
public class LoaderAllowListTests
{
    private const string LoaderBase = "VipsForeignLoad";

    [Fact]
    public void AfterStart_EveryLoaderClassOutsideTheAllowList_IsBlocked_AndEveryAllowedOneIsNot()
    {
        VipsRuntime.EnsureInitialized();
        List<LoaderClass> loaders = LoaderClassTree();

        List<string> wrong = loaders.Where(l => l.IsBlocked == l.IsAllowed).Select(l => l.Name + (l.IsBlocked ? " is blocked" : " is open")).ToList();

        Assert.Empty(wrong);
        // Not vacuous: each allowed format has loaders here, and so do formats KoalaPic never reads.
        Assert.All(ImageConverter.AllowedLoaders.Keys, allowed => Assert.Contains(loaders, l => l.IsAllowed && l.Ancestry.Contains(allowed)));
        Assert.Contains(loaders, l => l.Name == "VipsForeignLoadCsvFile" && l.IsBlocked);
        Assert.Contains(loaders, l => l.Name == "VipsForeignLoadMatrixFile" && l.IsBlocked);
        Assert.Contains(loaders, l => l.Name == "VipsForeignLoadVipsFile" && l.IsBlocked);
    }

    [Fact]
    public void AfterStart_LibvipsItselfRefusesABlockedLoader_NotOnlyTheEnginesOwnCheck()
    {
        VipsRuntime.EnsureInitialized();
        using var folder = new TempFolder();
        string matrix = Path.Combine(folder.Path, "image.mat");
        File.WriteAllText(matrix, "2 2\n1 2\n3 4\n"); // libvips' matrix text format: its loader is in this libvips

        var ex = Assert.Throws<VipsException>(() =>
        {
            using Image image = Image.Matrixload(matrix);
            image.Avg();
        });

        Assert.Contains("matrixload: operation is blocked", ex.Message);
    }

    [Fact]
    public void TheEnginesEnumeration_FindsEveryLoaderClassOutsideTheAllowListThatTheClassTreeHas()
    {
        VipsRuntime.EnsureInitialized();
        IEnumerable<string> fromTree = LoaderClassTree().Where(l => !l.IsAllowed).Select(l => l.Name).OrderBy(n => n, StringComparer.Ordinal);

        Assert.Equal(fromTree, VipsRuntime.LoadersOutside(ImageConverter.AllowedLoaders.Keys).OrderBy(n => n, StringComparer.Ordinal));
    }

    [Fact]
    public void NoLoaderClassOutsideTheAllowList_HasAnAllowedOneBelowIt()
    {
        // Blocking such a class would block the allowed ones below it too (libvips blocks a class and all below it),
        // until the start-up unblocks them again: the window in which conversions failed.
        VipsRuntime.EnsureInitialized();
        List<LoaderClass> loaders = LoaderClassTree();

        Assert.DoesNotContain(loaders, outside => !outside.IsAllowed && loaders.Any(l => l.IsAllowed && l.Ancestry.Contains(outside.Name)));
    }

    [Fact]
    public void ALoaderOnlyAnotherEngineCopyAllows_IsNotBlocked_ButEveryOtherOneStill()
    {
        VipsRuntime.EnsureInitialized();
        List<string> ours = VipsRuntime.LoadersOutside(ImageConverter.AllowedLoaders.Keys);

        List<string> withAnotherCopys = VipsRuntime.LoadersOutside(ImageConverter.AllowedLoaders.Keys.Append("VipsForeignLoadCsv").ToList());

        Assert.Contains("VipsForeignLoadCsvFile", ours);
        Assert.Equal(ours.Where(l => !l.StartsWith("VipsForeignLoadCsv", StringComparison.Ordinal)), withAnotherCopys);
    }

    [Fact]
    public void SecondEngineCopyStarts_KeepsWhatCopiesStartedBeforeItAllow()
    {
        // Stands for a KoalaPic version that reads JXL with libvips, started first: this libvips has no JXL loader, so
        // the entry changes nothing in it for the other tests.
        const string otherVersionsLoader = "VipsForeignLoadJxl";
        Assert.Equal(IntPtr.Zero, NetVips.NetVips.TypeFromName(otherVersionsLoader));
        VipsRuntime.EnsureInitialized();
        lock (string.Intern(VipsRuntime.AllowedInProcessKey))
        {
            var before = (string[])AppDomain.CurrentDomain.GetData(VipsRuntime.AllowedInProcessKey)!;
            AppDomain.CurrentDomain.SetData(VipsRuntime.AllowedInProcessKey, before.Append(otherVersionsLoader).Distinct().ToArray());
        }

        StartAnotherEngineCopy();

        var after = (string[])AppDomain.CurrentDomain.GetData(VipsRuntime.AllowedInProcessKey)!;
        Assert.Contains(otherVersionsLoader, after);
        Assert.Superset(ImageConverter.AllowedLoaders.Keys.ToHashSet(), after.ToHashSet());
    }

    [Fact]
    public void AllowListAppliedAgainAndAgain_WhileJpegsConvertOnAnotherThread_NoConversionFails()
    {
        List<string> failures = FailedConversionsWhile(VipsRuntime.RestrictLoaders, disturbances: 200, conversions: 200);

        Assert.Empty(failures);
    }

    [Fact]
    public void SecondEngineCopiesStart_WhileJpegsConvertOnAnotherThread_NoConversionFails()
    {
        List<string> failures = FailedConversionsWhile(StartAnotherEngineCopy, disturbances: 3, conversions: 1);

        Assert.Empty(failures);
    }

    private static void StartAnotherEngineCopy()
    {
        Assembly engine = new EngineLoadContext().Engine;
        Assert.NotSame(typeof(VipsRuntime).Assembly, engine);
        engine.GetType(typeof(VipsRuntime).FullName!, throwOnError: true)!
            .GetMethod(nameof(VipsRuntime.EnsureInitialized))!.Invoke(null, new object?[] { null });
    }

    /// <summary>
    /// Converts a JPEG through the engine, over and over on one thread, while another runs <paramref name="disturb"/>
    /// until it has run <paramref name="disturbances"/> times and at least <paramref name="conversions"/> conversions
    /// were started after it began: the two overlap by count, whatever the scheduler does. Returns the failures.
    /// </summary>
    private static List<string> FailedConversionsWhile(Action disturb, int disturbances, int conversions)
    {
        byte[] jpeg;
        using (Image photo = Solid(16, 16, 200, 100, 50))
        {
            jpeg = photo.JpegsaveBuffer();
        }

        Assert.Equal(16, Convert(jpeg, ImageFormat.Png).Width); // libvips started, and this JPEG converts when undisturbed
        var failures = new ConcurrentQueue<string>();
        int started = 0;
        bool done = false;
        Task converter = Task.Factory.StartNew(
            () =>
            {
                while (!Volatile.Read(ref done))
                {
                    Interlocked.Increment(ref started);
                    try
                    {
                        Convert(jpeg, ImageFormat.Png);
                    }
                    catch (ImageConversionException ex)
                    {
                        failures.Enqueue(ex.Message);
                    }
                }
            },
            TaskCreationOptions.LongRunning);
        try
        {
            int startedBefore = Volatile.Read(ref started);
            for (int runs = 0; runs < disturbances || Volatile.Read(ref started) - startedBefore < conversions; runs++)
            {
                Assert.False(converter.IsCompleted, "the converting thread stopped: " + converter.Exception);
                disturb();
            }
        }
        finally
        {
            Volatile.Write(ref done, true);
            converter.Wait();
        }

        return failures.ToList();
    }

    private sealed record LoaderClass(string Name, IReadOnlyList<string> Ancestry, bool IsAllowed, bool IsBlocked);

    /// <summary>
    /// Every concrete loader class of the libvips in use, found independently of the engine's enumeration (NetVips'
    /// public nickname list): by walking GType's class tree below VipsForeignLoad with libvips' vips_type_map, which
    /// NetVips binds internally. A class is allowed when it or a class above it is on the allow-list.
    /// </summary>
    private static List<LoaderClass> LoaderClassTree()
    {
        Type vips = typeof(NetVips.NetVips).Assembly.GetType("NetVips.Internal.Vips", throwOnError: true)!;
        MethodInfo typeMap = vips.GetMethod("TypeMap", BindingFlags.NonPublic | BindingFlags.Static)!;
        Type callbackType = vips.GetNestedType("TypeMap2Fn", BindingFlags.NonPublic)!;
        var found = new List<LoaderClass>();
        var path = new Stack<string>();
        Delegate? callback = null;

        void Walk(nint type)
        {
            string name = NetVips.NetVips.TypeName(type);
            path.Push(name);
            // vips_type_find searches only concrete classes (as vips_operation_block_set sets only those).
            if (NetVips.NetVips.TypeFind(LoaderBase, name) != IntPtr.Zero)
            {
                string[] ancestry = path.ToArray();
                using Operation operation = Operation.NewFromName(name);
                found.Add(new LoaderClass(
                    name,
                    ancestry,
                    ancestry.Any(ImageConverter.AllowedLoaders.ContainsKey),
                    operation.GetFlags().HasFlag(Enums.OperationFlags.BLOCKED)));
            }

            typeMap.Invoke(null, new object?[] { type, callback, IntPtr.Zero, IntPtr.Zero });
            path.Pop();
        }

        Func<nint, nint, nint, nint> visit = (child, a, b) =>
        {
            Walk(child);
            return IntPtr.Zero;
        };
        callback = Delegate.CreateDelegate(callbackType, visit.Target, visit.Method);
        Walk(NetVips.NetVips.TypeFromName(LoaderBase));
        GC.KeepAlive(callback);
        return found;
    }
}
