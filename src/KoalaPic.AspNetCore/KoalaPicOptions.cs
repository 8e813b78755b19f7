namespace KoalaPic.AspNetCore;

/// <summary>Options for <see cref="KoalaImageManifest"/>, the <c>&lt;koala-img&gt;</c> tag helper and the <c>&lt;KoalaImg&gt;</c> component.</summary>
public sealed class KoalaPicOptions
{
    /// <summary>
    /// The folder holding the <c>*.manifest.json</c> files. Null (the default) means
    /// <c>Path.Combine(AppContext.BaseDirectory, "koalapic")</c>, where KoalaPic.Build copies them on build and publish.
    /// A relative path is taken relative to <see cref="System.AppContext.BaseDirectory"/>.
    /// </summary>
    public string? ManifestDirectory { get; set; }

    /// <summary>
    /// What to do when a <c>src</c> has no manifest entry: true throws an <see cref="System.InvalidOperationException"/>
    /// that says why and how to fix it; false renders a plain <c>&lt;img&gt;</c> of the original file. Null (the
    /// default) means true in the Development environment and false otherwise.
    /// </summary>
    public bool? ThrowOnMissing { get; set; }
}
