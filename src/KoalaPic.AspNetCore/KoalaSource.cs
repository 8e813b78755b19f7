using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.AspNetCore.Components;

namespace KoalaPic.AspNetCore;

/// <summary>
/// <c>&lt;KoalaSource Media="(max-width: 600px)" Src="img/hero-portrait.jpg" /&gt;</c> inside a <c>&lt;KoalaImg&gt;</c>:
/// art direction, the twin of <c>&lt;koala-source&gt;</c> (<see cref="KoalaSourceTagHelper"/>). The image becomes its own
/// <c>&lt;source media="…"&gt;</c> set per format, ahead of the default image's sources, in the order written. It
/// renders nothing by itself; its parameters are read when the parent <c>&lt;KoalaImg&gt;</c> renders.
/// </summary>
public sealed class KoalaSource : ComponentBase, IDisposable
{
    /// <summary>The media query: <c>(max-width: 600px)</c>.</summary>
    [Parameter, EditorRequired]
    public string? Media { get; set; }

    /// <summary>The source image for that query, app-relative like the parent's <c>Src</c>.</summary>
    [Parameter, EditorRequired]
    public string? Src { get; set; }

    /// <summary>The sizes of this set's sources; the parent's when left out.</summary>
    [Parameter]
    public string? Sizes { get; set; }

    [CascadingParameter]
    internal KoalaSourceList? Parent { get; set; }

    /// <inheritdoc />
    protected override void OnInitialized()
    {
        if (Parent == null)
        {
            throw new InvalidOperationException($"KoalaPic: <KoalaSource Media=\"{Media}\" Src=\"{Src}\"> must be inside a <KoalaImg>.");
        }

        Parent.Add(this);
    }

    /// <inheritdoc />
    public void Dispose() => Parent?.Remove(this);

    internal ArtDirectedSource ToArtDirectedSource() => new(Media, Src, Sizes);
}

/// <summary>The <see cref="KoalaSource"/> children of one <see cref="KoalaImg"/>, in the order they were first rendered.</summary>
internal sealed class KoalaSourceList
{
    private readonly List<KoalaSource> children = new();

    public void Add(KoalaSource child) => children.Add(child);

    public void Remove(KoalaSource child) => children.Remove(child);

    public IReadOnlyList<ArtDirectedSource> Sources() => children.Select(c => c.ToArtDirectedSource()).ToList();
}

/// <summary>Renders its content after the components before it got their parameters (see <see cref="KoalaImg"/>).</summary>
internal sealed class RenderAfterChildren : ComponentBase
{
    [Parameter]
    public RenderFragment? ChildContent { get; set; }

    /// <inheritdoc />
    protected override void BuildRenderTree(Microsoft.AspNetCore.Components.Rendering.RenderTreeBuilder builder) => builder.AddContent(0, ChildContent);
}
