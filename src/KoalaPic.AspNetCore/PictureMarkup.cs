using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Encodings.Web;

namespace KoalaPic.AspNetCore;

/// <summary>One HTML attribute; a null <see cref="Value"/> is a minimized attribute (<c>hidden</c>).</summary>
/// <param name="Name">The attribute name, as given.</param>
/// <param name="Value">The attribute value, not encoded (encoding happens when the markup is written).</param>
public readonly record struct MarkupAttribute(string Name, string? Value);

/// <summary>A <c>&lt;source&gt;</c> of a <c>&lt;picture&gt;</c>.</summary>
/// <param name="Type">The MIME type: <c>image/avif</c>; null to leave it out (an art-directed source without manifest entry).</param>
/// <param name="Srcset">The srcset: <c>/img/photo-480w.avif 480w, /img/photo-960w.avif 960w</c>, or a single URL.</param>
/// <param name="Sizes">The sizes attribute, or null to leave it out.</param>
/// <param name="Media">The media query of an art-directed source (<c>&lt;koala-source media="…"&gt;</c>); null for the default image's sources.</param>
/// <param name="Width">The intrinsic width of an art-directed source's largest variant (its aspect ratio, for no layout shift); null to leave it out.</param>
/// <param name="Height">The intrinsic height, like <paramref name="Width"/>.</param>
public sealed record PictureSource(string? Type, string Srcset, string? Sizes, string? Media = null, int? Width = null, int? Height = null);

/// <summary>
/// What <c>&lt;koala-img&gt;</c> and <c>&lt;KoalaImg&gt;</c> render, built by <see cref="PictureMarkupBuilder"/>:
/// a <c>&lt;picture&gt;</c> with <see cref="Sources"/> and an <c>&lt;img&gt;</c>, or (when <see cref="IsPicture"/> is
/// false, for a src without manifest entry) a plain <c>&lt;img&gt;</c>. Both renderers write exactly this, in this order.
/// </summary>
public sealed class PictureMarkup
{
    internal PictureMarkup(bool isPicture, IReadOnlyList<PictureSource> sources, IReadOnlyList<MarkupAttribute> imgAttributes)
    {
        IsPicture = isPicture;
        Sources = sources;
        ImgAttributes = imgAttributes;
    }

    /// <summary>True for <c>&lt;picture&gt;…&lt;/picture&gt;</c>, false for a lone <c>&lt;img&gt;</c>.</summary>
    public bool IsPicture { get; }

    /// <summary>The <c>&lt;source&gt;</c> elements, in manifest format order (empty for a lone img).</summary>
    public IReadOnlyList<PictureSource> Sources { get; }

    /// <summary>The <c>&lt;img&gt;</c>'s attributes in the order they are written.</summary>
    public IReadOnlyList<MarkupAttribute> ImgAttributes { get; }

    /// <summary>
    /// Writes the markup as HTML with no whitespace between elements, void elements as <c>&lt;img … /&gt;</c> (as
    /// Blazor's renderer writes them, so both renderers agree byte for byte), every attribute value encoded with
    /// <paramref name="encoder"/> (by default <see cref="HtmlEncoder.Default"/>).
    /// </summary>
    public void WriteTo(TextWriter writer, HtmlEncoder? encoder = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        encoder ??= HtmlEncoder.Default;
        if (IsPicture)
        {
            writer.Write("<picture>");
            foreach (PictureSource source in Sources)
            {
                writer.Write("<source");
                foreach (MarkupAttribute attribute in source.Attributes())
                {
                    WriteAttribute(writer, encoder, attribute.Name, attribute.Value);
                }

                writer.Write(" />");
            }
        }

        writer.Write("<img");
        foreach (MarkupAttribute attribute in ImgAttributes)
        {
            WriteAttribute(writer, encoder, attribute.Name, attribute.Value);
        }

        writer.Write(" />");
        if (IsPicture)
        {
            writer.Write("</picture>");
        }
    }

    /// <summary>The HTML that <see cref="WriteTo"/> writes.</summary>
    public string ToHtml(HtmlEncoder? encoder = null)
    {
        using var writer = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        WriteTo(writer, encoder);
        return writer.ToString();
    }

    private static void WriteAttribute(TextWriter writer, HtmlEncoder encoder, string name, string? value)
    {
        writer.Write(' ');
        writer.Write(name);
        if (value != null)
        {
            writer.Write("=\"");
            encoder.Encode(writer, value);
            writer.Write('"');
        }
    }
}

internal static class PictureSourceAttributes
{
    /// <summary>The attributes of a <c>&lt;source&gt;</c>, in the order both renderers write them: media, type, srcset, sizes, width, height; the null ones left out.</summary>
    public static IEnumerable<MarkupAttribute> Attributes(this PictureSource source)
    {
        if (source.Media != null)
        {
            yield return new MarkupAttribute("media", source.Media);
        }

        if (source.Type != null)
        {
            yield return new MarkupAttribute("type", source.Type);
        }

        yield return new MarkupAttribute("srcset", source.Srcset);
        if (source.Sizes != null)
        {
            yield return new MarkupAttribute("sizes", source.Sizes);
        }

        if (source.Width is int width)
        {
            yield return new MarkupAttribute("width", width.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (source.Height is int height)
        {
            yield return new MarkupAttribute("height", height.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
