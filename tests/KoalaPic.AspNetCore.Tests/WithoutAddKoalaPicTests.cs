using Xunit;

namespace KoalaPic.AspNetCore.Tests;

/// <summary>
/// The zero-configuration path: no AddKoalaPic(), so the shared instance reads the real default folder,
/// bin/…/koalapic/ beside the test assembly, exactly where KoalaPic.Build copies an app's manifest. The only test that
/// touches <see cref="KoalaImageManifest.Shared"/> (it is read once per process).
/// </summary>
public sealed class WithoutAddKoalaPicTests
{
    [Fact]
    public async Task TagHelperAndComponent_ReadBinKoalapicWithoutRegistration()
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "koalapic");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "KoalaPic.AspNetCore.Tests.manifest.json"), Manifests.App);
        using var app = new TestApp("Development", register: false);

        List<Html.Element> elements = Html.Parse(app.RenderTagHelper("~/img/photo.png"));
        string component = await app.RenderComponentAsync(new Dictionary<string, object?> { ["Src"] = "~/img/photo.png" });

        Assert.Equal("/img/photo-960w.jpg", elements[3]["src"]);
        Assert.Equal(app.RenderTagHelper("~/img/photo.png"), component);
        Assert.Same(KoalaImageManifest.Shared, KoalaImageManifest.Shared);
        Assert.Equal(folder, KoalaImageManifest.Shared.Directory);
        // Development without options still throws for a miss.
        Assert.Throws<InvalidOperationException>(() => app.RenderTagHelper("~/img/none.png"));
    }
}
