using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Text.Encodings.Web;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Html;
using Microsoft.AspNetCore.Mvc.Rendering;
using Microsoft.AspNetCore.Mvc.ViewFeatures;
using Microsoft.AspNetCore.Razor.TagHelpers;

namespace KoalaPic.AspNetCore;

/// <summary>
/// <c>&lt;koala-img src="~/img/photo.png" alt="…" sizes="(max-width: 600px) 100vw, 50vw" /&gt;</c>: a responsive
/// <c>&lt;picture&gt;</c> built from the image manifest of KoalaPic.Build. Enable it with
/// <c>@addTagHelper *, KoalaPic.AspNetCore</c> in <c>_ViewImports.cshtml</c>.
/// </summary>
/// <remarks>
/// <para>One <c>&lt;source type srcset sizes&gt;</c> per format except the fallback (the first of jpg, png, gif the
/// item has, else its last format), which is the <c>&lt;img&gt;</c>: <c>src</c> the largest fallback variant,
/// <c>srcset</c> all of them, <c>width</c>/<c>height</c> the largest one's pixel size, <c>loading="lazy"</c>,
/// <c>decoding="async"</c>, the placeholder as a background style. Every other attribute written on
/// <c>&lt;koala-img&gt;</c> (alt, sizes, class, id, style, title, data-*, fetchpriority, and width/height/loading/decoding
/// to override) goes to the <c>&lt;img&gt;</c>. URLs are prefixed with the request's PathBase. The full rules are on
/// <see cref="PictureMarkupBuilder"/>.</para>
/// <para>A <c>src</c> without manifest entry throws an <see cref="InvalidOperationException"/> explaining the fix when
/// <see cref="KoalaPicOptions.ThrowOnMissing"/> is true (by default, in Development), and renders a plain
/// <c>&lt;img&gt;</c> of the file otherwise.</para>
/// <para>Art direction: <c>&lt;koala-source media="(max-width: 600px)" src="~/img/hero-portrait.jpg" /&gt;</c> children
/// (<see cref="KoalaSourceTagHelper"/>) each add a <c>&lt;source media&gt;</c> set per format ahead of the default's.</para>
/// </remarks>
[HtmlTargetElement("koala-img", Attributes = "src")]
[RestrictChildren(KoalaSourceTagHelper.TagName)]
public sealed class KoalaImgTagHelper : TagHelper
{
    /// <summary>The source image, app-relative: <c>~/img/photo.png</c>, <c>/img/photo.png</c> or <c>img/photo.png</c> (a Razor class library's: <c>~/_content/MyLib/img/photo.png</c>).</summary>
    [HtmlAttributeName("src")]
    public string? Src { get; set; }

    /// <summary>Set by Razor: the request (for its PathBase and services).</summary>
    [HtmlAttributeNotBound]
    [ViewContext]
    public ViewContext? ViewContext { get; set; }

    /// <inheritdoc />
    public override async Task ProcessAsync(TagHelperContext context, TagHelperOutput output)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(output);
        // The <koala-source> children run here and add themselves to the list; their own output is nothing.
        var artDirected = new List<ArtDirectedSource>();
        context.Items[typeof(KoalaSourceTagHelper)] = artDirected;
        await output.GetChildContentAsync();
        var attributes = new List<MarkupAttribute>(output.Attributes.Count);
        foreach (TagHelperAttribute attribute in output.Attributes)
        {
            attributes.Add(new MarkupAttribute(attribute.Name, AttributeText(attribute)));
        }

        var http = ViewContext?.HttpContext;
        PictureMarkup markup = KoalaPicRenderer.Render(http?.RequestServices, Src, http?.Request.PathBase.Value, attributes, artDirected);

        output.TagName = null;
        output.Attributes.Clear();
        output.Content.SetHtmlContent(markup.ToHtml(HtmlEncoder.Default));
    }

    /// <summary>
    /// The attribute's plain text. Razor hands literal and mixed values over as already-encoded HTML content; those are
    /// decoded here so that they are encoded exactly once on output. A minimized attribute is null.
    /// </summary>
    private static string? AttributeText(TagHelperAttribute attribute)
    {
        if (attribute.ValueStyle == HtmlAttributeValueStyle.Minimized)
        {
            return null;
        }

        switch (attribute.Value)
        {
            case null:
                return "";
            case string text:
                return text;
            case IHtmlContent html:
                using (var writer = new StringWriter())
                {
                    html.WriteTo(writer, HtmlEncoder.Default);
                    return WebUtility.HtmlDecode(writer.ToString());
                }

            default:
                return Convert.ToString(attribute.Value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
        }
    }
}
