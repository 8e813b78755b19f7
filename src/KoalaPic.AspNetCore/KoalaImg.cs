using System;
using System.Collections.Generic;
using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;

namespace KoalaPic.AspNetCore;

/// <summary>
/// <c>&lt;KoalaImg Src="img/photo.png" Alt="…" Sizes="(max-width: 600px) 100vw, 50vw" /&gt;</c>: the Blazor twin of
/// the <c>&lt;koala-img&gt;</c> tag helper, rendering the same <c>&lt;picture&gt;</c> by the same rules
/// (<see cref="PictureMarkupBuilder"/>). Add <c>@using KoalaPic.AspNetCore</c> to <c>_Imports.razor</c>.
/// </summary>
/// <remarks>
/// Every attribute not matched by a parameter (class, id, style, title, data-*, fetchpriority, width, height, …) goes
/// to the <c>&lt;img&gt;</c>. The path base comes from <see cref="NavigationManager.BaseUri"/>. The manifest is read
/// from the server's output folder, so the component renders pictures in static server rendering and interactive
/// Server mode; in WebAssembly the manifest is not there (a src then counts as missing).
/// Art direction: <see cref="KoalaSource"/> children, as <c>&lt;koala-source&gt;</c> in the tag helper.
/// </remarks>
public sealed class KoalaImg : ComponentBase
{
    /// <summary>The source image, app-relative: <c>img/photo.png</c>, <c>/img/photo.png</c> or <c>~/img/photo.png</c>.</summary>
    [Parameter, EditorRequired]
    public string? Src { get; set; }

    /// <summary>The img's alt text.</summary>
    [Parameter]
    public string? Alt { get; set; }

    /// <summary>The sizes attribute of every source and the img; <c>100vw</c> when left out and a srcset has widths.</summary>
    [Parameter]
    public string? Sizes { get; set; }

    /// <summary><c>lazy</c> unless set (use <c>eager</c> for an image above the fold).</summary>
    [Parameter]
    public string? Loading { get; set; }

    /// <summary><c>async</c> unless set.</summary>
    [Parameter]
    public string? Decoding { get; set; }

    /// <summary>Art direction: <c>&lt;KoalaSource Media="(max-width: 600px)" Src="img/hero-portrait.jpg" /&gt;</c> children, each a <c>&lt;source media&gt;</c> set per format ahead of the default's, in the order written.</summary>
    [Parameter]
    public RenderFragment? ChildContent { get; set; }

    /// <summary>Every other attribute, for the img.</summary>
    [Parameter(CaptureUnmatchedValues = true)]
    public IReadOnlyDictionary<string, object>? AdditionalAttributes { get; set; }

    [Inject]
    private IServiceProvider Services { get; set; } = default!;

    private readonly KoalaSourceList artDirected = new();

    /// <inheritdoc />
    protected override void BuildRenderTree(RenderTreeBuilder builder)
    {
        var attributes = new List<MarkupAttribute>();
        AddIfSet(attributes, "alt", Alt);
        AddIfSet(attributes, "sizes", Sizes);
        AddIfSet(attributes, "loading", Loading);
        AddIfSet(attributes, "decoding", Decoding);

        // Values that are not text (event handlers in interactive mode) are passed to the img as they are.
        List<KeyValuePair<string, object>>? passThrough = null;
        if (AdditionalAttributes != null)
        {
            foreach (KeyValuePair<string, object> attribute in AdditionalAttributes)
            {
                switch (attribute.Value)
                {
                    case null:
                    case false:
                        break;
                    case true:
                        attributes.Add(new MarkupAttribute(attribute.Key, null));
                        break;
                    case string text:
                        attributes.Add(new MarkupAttribute(attribute.Key, text));
                        break;
                    case IConvertible convertible:
                        attributes.Add(new MarkupAttribute(attribute.Key, convertible.ToString(CultureInfo.InvariantCulture)));
                        break;
                    default:
                        (passThrough ??= new()).Add(attribute);
                        break;
                }
            }
        }

        if (ChildContent == null)
        {
            WritePicture(builder, KoalaPicRenderer.Render(Services, Src, PathBase(), attributes), passThrough);
            return;
        }

        // The <KoalaSource> children add themselves to artDirected when they get their parameters, which happens while
        // the cascading value renders them; the picture, a later sibling component, renders after that.
        builder.OpenComponent<CascadingValue<KoalaSourceList>>(10);
        builder.AddComponentParameter(11, nameof(CascadingValue<KoalaSourceList>.Value), artDirected);
        builder.AddComponentParameter(12, nameof(CascadingValue<KoalaSourceList>.IsFixed), true);
        builder.AddComponentParameter(13, nameof(CascadingValue<KoalaSourceList>.ChildContent), (RenderFragment)(content =>
        {
            content.AddContent(14, ChildContent);
            content.OpenComponent<RenderAfterChildren>(15);
            content.AddComponentParameter(16, nameof(RenderAfterChildren.ChildContent), (RenderFragment)(picture =>
                WritePicture(picture, KoalaPicRenderer.Render(Services, Src, PathBase(), attributes, artDirected.Sources()), passThrough)));
            content.CloseComponent();
        }));
        builder.CloseComponent();
    }

    /// <summary>Writes <paramref name="markup"/>, then <paramref name="passThrough"/> on the img.</summary>
    private static void WritePicture(RenderTreeBuilder builder, PictureMarkup markup, List<KeyValuePair<string, object>>? passThrough)
    {
        // Literal sequence numbers, repeated in loops, as Razor compiles a foreach; attributes of one element are
        // diffed by name.
        if (markup.IsPicture)
        {
            builder.OpenElement(0, "picture");
            foreach (PictureSource source in markup.Sources)
            {
                builder.OpenElement(1, "source");
                foreach (MarkupAttribute attribute in source.Attributes())
                {
                    builder.AddAttribute(2, attribute.Name, attribute.Value);
                }

                builder.CloseElement();
            }
        }

        builder.OpenElement(5, "img");
        foreach (MarkupAttribute attribute in markup.ImgAttributes)
        {
            if (attribute.Value == null)
            {
                builder.AddAttribute(6, attribute.Name, true);
            }
            else
            {
                builder.AddAttribute(6, attribute.Name, attribute.Value);
            }
        }

        if (passThrough != null)
        {
            builder.AddMultipleAttributes(7, passThrough);
        }

        builder.CloseElement();
        if (markup.IsPicture)
        {
            builder.CloseElement();
        }
    }

    private string? PathBase()
    {
        NavigationManager? navigation = Services.GetService(typeof(NavigationManager)) as NavigationManager;
        return navigation == null ? null : new Uri(navigation.BaseUri).AbsolutePath;
    }

    private static void AddIfSet(List<MarkupAttribute> attributes, string name, string? value)
    {
        if (value != null)
        {
            attributes.Add(new MarkupAttribute(name, value));
        }
    }
}
