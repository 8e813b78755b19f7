using System;
using System.Collections.Generic;
using Microsoft.AspNetCore.Razor.TagHelpers;

namespace KoalaPic.AspNetCore;

/// <summary>
/// <c>&lt;koala-source media="(max-width: 600px)" src="~/img/hero-portrait.jpg" /&gt;</c> inside a
/// <c>&lt;koala-img&gt;</c>: art direction. The image becomes its own <c>&lt;source media="…"&gt;</c> set per format,
/// ahead of the default image's sources, in the order written, with its own srcset, sizes (<c>sizes</c> here, else the
/// parent's) and width/height. It renders nothing by itself.
/// </summary>
[HtmlTargetElement(TagName, ParentTag = "koala-img", TagStructure = TagStructure.WithoutEndTag)]
public sealed class KoalaSourceTagHelper : TagHelper
{
    internal const string TagName = "koala-source";

    /// <summary>The media query: <c>(max-width: 600px)</c>.</summary>
    [HtmlAttributeName("media")]
    public string? Media { get; set; }

    /// <summary>The source image for that query, app-relative like the parent's <c>src</c>.</summary>
    [HtmlAttributeName("src")]
    public string? Src { get; set; }

    /// <summary>The sizes of this set's sources; the parent's when left out.</summary>
    [HtmlAttributeName("sizes")]
    public string? Sizes { get; set; }

    /// <inheritdoc />
    public override void Process(TagHelperContext context, TagHelperOutput output)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(output);
        output.SuppressOutput();
        if (context.Items.TryGetValue(typeof(KoalaSourceTagHelper), out object? list) && list is List<ArtDirectedSource> artDirected)
        {
            artDirected.Add(new ArtDirectedSource(Media, Src, Sizes));
        }
    }
}
