using Microsoft.Build.Framework;
using NetVips;
using Xunit;

namespace KoalaPic.Build.Tasks.Tests;

/// <summary>ConvertKoalaImages run as plain code: real images, real libvips, a fake build engine.</summary>
public sealed class ConvertKoalaImagesTests
{
    [Fact]
    public void Converts_a_png_to_webp_and_hands_the_output_to_msbuild()
    {
        using var project = new TaskProject();
        string source = project.AddFixture("with-alpha.png", "img/logo.png");
        ConvertKoalaImages task = project.ConvertTask(TaskSupport.Item(source, ("Format", "webp"), ("Width", "32")));

        bool succeeded = task.Execute();

        Assert.True(succeeded, task.Engine().Log);
        Assert.Empty(task.Engine().Errors);
        ITaskItem output = Assert.Single(task.ConvertedImages);
        Assert.True(File.Exists(output.ItemSpec), output.ItemSpec);
        Assert.Equal(Path.Combine("img", "logo.webp"), output.GetMetadata("TargetPath"));
        Assert.Equal("webp", output.GetMetadata("KoalaPicFormat"));
        Assert.Equal("32", output.GetMetadata("KoalaPicWidth"));
        using Image decoded = Image.NewFromFile(output.ItemSpec, access: Enums.Access.Sequential);
        Assert.Equal("VipsForeignLoadWebpFile", Image.FindLoad(output.ItemSpec));
        Assert.Equal(32, decoded.Width);
        Assert.Equal(int.Parse(output.GetMetadata("KoalaPicHeight")), decoded.Height);
        Assert.Equal(1, task.ImageCount);
    }
}
