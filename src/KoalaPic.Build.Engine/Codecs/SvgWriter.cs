using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using NetVips;

namespace KoalaPic.Build.Engine;

/// <summary>
/// SVG output: a raster wrapped in an SVG document, or, from an SVG source, a sanitised copy of the vector drawing,
/// resized by its root attributes (vectors are never rasterised or enlarged).
/// </summary>
internal static class SvgWriter
{
    /// <summary>Largest SVG source accepted (after gunzipping an .svgz); larger files are refused, not parsed.</summary>
    internal const int MaxSvgBytes = 32 * 1024 * 1024;

    /// <summary>Deepest element nesting accepted; librsvg itself stops at 256 (libxml2's default).</summary>
    internal const int MaxDepth = 512;

    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private static readonly XNamespace XLink = "http://www.w3.org/1999/xlink";
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// An SVG document of the image's pixel size showing the image, embedded as a data: URI: PNG (compression 9) when
    /// the image has alpha or <paramref name="quality"/> is 100, else JPEG at <paramref name="quality"/>.
    /// </summary>
    /// <remarks>The link is <c>xlink:href</c>: deprecated by SVG 2 but read by every browser, librsvg, Inkscape and
    /// ImageMagick, whereas plain <c>href</c> is missed by older readers (Safari before 12.1, Inkscape 0.92); writing
    /// both would double the base64 payload.</remarks>
    internal static byte[] EmbedRaster(Image image, int quality)
    {
        bool png = image.HasAlpha() || quality >= 100;
        byte[] raster = png
            ? image.PngsaveBuffer(compression: 9, keep: Enums.ForeignKeep.None)
            : image.JpegsaveBuffer(q: quality, optimizeCoding: true, keep: Enums.ForeignKeep.None);
        string width = image.Width.ToString(CultureInfo.InvariantCulture);
        string height = image.Height.ToString(CultureInfo.InvariantCulture);
        var document = new StringBuilder((raster.Length * 4 / 3) + 400);
        document.Append("<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\"")
            .Append(" width=\"").Append(width).Append("\" height=\"").Append(height)
            .Append("\" viewBox=\"0 0 ").Append(width).Append(' ').Append(height).Append("\">")
            .Append("<image width=\"").Append(width).Append("\" height=\"").Append(height)
            .Append("\" xlink:href=\"data:image/").Append(png ? "png" : "jpeg").Append(";base64,")
            .Append(Convert.ToBase64String(raster))
            .Append("\"/></svg>\n");
        return Utf8NoBom.GetBytes(document.ToString());
    }

    /// <summary>
    /// A clean copy of an SVG source: no scripts, event handlers, foreign content, external references or DTD, sized
    /// to <paramref name="width"/> × <paramref name="height"/> by <paramref name="fit"/> (either may be null; both null
    /// keeps the drawing's own size).
    /// </summary>
    /// <returns>The document (UTF-8, no BOM, no XML declaration) and its size in CSS pixels, rounded.</returns>
    /// <exception cref="ImageConversionException"><see cref="DiagnosticCodes.CannotDecode"/>: empty, too large, not
    /// well-formed, not SVG, or with a DOCTYPE.</exception>
    internal static (byte[] Bytes, int Width, int Height) Sanitize(byte[] svg, int? width, int? height, FitMode fit)
    {
        XDocument document = Parse(svg);
        XElement root = document.Root!;
        CleanTree(root);

        (double originalWidth, double originalHeight, string viewBox) = IntrinsicSize(root);
        (double outputWidth, double outputHeight, string? aspect) = Fit(originalWidth, originalHeight, width, height, fit);
        root.SetAttributeValue("width", Number(outputWidth));
        root.SetAttributeValue("height", Number(outputHeight));
        root.SetAttributeValue("viewBox", viewBox);
        if (aspect != null)
        {
            root.SetAttributeValue("preserveAspectRatio", aspect);
        }

        DeclareNamespaces(root);
        var settings = new XmlWriterSettings
        {
            Encoding = Utf8NoBom,
            OmitXmlDeclaration = true,
            Indent = false,
            NewLineHandling = NewLineHandling.None,
        };
        using var output = new MemoryStream();
        using (var writer = XmlWriter.Create(output, settings))
        {
            root.WriteTo(writer);
        }

        output.WriteByte((byte)'\n');
        return (output.ToArray(), Pixels(outputWidth), Pixels(outputHeight));
    }

    private static XDocument Parse(byte[] svg)
    {
        if (svg.Length == 0)
        {
            throw Refused("is empty");
        }

        byte[] text = IsGzip(svg) ? Gunzip(svg) : svg;
        if (text.Length > MaxSvgBytes)
        {
            throw Refused(string.Format(CultureInfo.InvariantCulture, "is an SVG of {0:N0} bytes, over KoalaPic's limit of {1:N0} bytes", text.Length, MaxSvgBytes));
        }

        // A DOCTYPE with declarations (entities: XXE, billion laughs) is refused. A DOCTYPE that only names a DTD, as
        // Illustrator and old Inkscape write, is ignored: never fetched, never applied, and not written out.
        if (DeclaresEntities(text))
        {
            throw Refused("has a DOCTYPE with declarations (entities), which KoalaPic refuses in SVG files: they can read local files or expand without bound (XXE)");
        }

        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Ignore,
            XmlResolver = null,
            MaxCharactersFromEntities = 0,
            MaxCharactersInDocument = MaxSvgBytes,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
        };
        XDocument document;
        try
        {
            // Depth first, in a streaming pass that stops at the limit: building the tree of a deeply nested file
            // takes time quadratic in its depth (measured: 20,000 levels, 1.2 s; 200,000 levels, minutes).
            using (var probe = XmlReader.Create(new MemoryStream(text, writable: false), settings))
            {
                while (probe.Read())
                {
                    if (probe.Depth > MaxDepth)
                    {
                        throw Refused($"nests elements more than {MaxDepth} levels deep, KoalaPic's limit");
                    }
                }
            }

            using var reader = XmlReader.Create(new MemoryStream(text, writable: false), settings);
            document = XDocument.Load(reader, LoadOptions.PreserveWhitespace);
        }
        catch (XmlException ex)
        {
            throw Refused("is not well-formed SVG (XML): " + ex.Message);
        }

        XElement root = document.Root!;
        if (root.Name.LocalName != "svg" || (root.Name.Namespace != Svg && root.Name.Namespace != XNamespace.None))
        {
            throw Refused($"is not an SVG document: its root element is <{root.Name.LocalName}>");
        }

        if (root.Name.Namespace == XNamespace.None)
        {
            // Browsers need the SVG namespace; a file that forgot it means SVG all the same.
            foreach (XElement element in root.DescendantsAndSelf().Where(e => e.Name.Namespace == XNamespace.None))
            {
                element.Name = Svg + element.Name.LocalName;
            }
        }

        return document;
    }

    private static ImageConversionException Refused(string message) => new(DiagnosticCodes.CannotDecode, message);

    private static bool IsGzip(byte[] bytes) => bytes.Length >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B;

    private static byte[] Gunzip(byte[] compressed)
    {
        try
        {
            using var gzip = new GZipStream(new MemoryStream(compressed, writable: false), CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buffer = new byte[81920];
            int read;
            while ((read = gzip.Read(buffer, 0, buffer.Length)) > 0)
            {
                // Stop at the limit instead of inflating a zip bomb in full.
                if (output.Length + read > MaxSvgBytes)
                {
                    throw Refused(string.Format(CultureInfo.InvariantCulture, "is a compressed SVG of more than {0:N0} bytes, KoalaPic's limit", MaxSvgBytes));
                }

                output.Write(buffer, 0, read);
            }

            return output.ToArray();
        }
        catch (InvalidDataException ex)
        {
            throw Refused("is a corrupt compressed SVG (svgz): " + ex.Message);
        }
    }

    /// <summary>
    /// Whether the document declares entities or has a DOCTYPE internal subset ("[" before the DOCTYPE's "&gt;"), in
    /// UTF-8 (or any ASCII-compatible encoding) or UTF-16. Safety does not rest on this check, which may refuse a
    /// harmless file mentioning "&lt;!ENTITY" in a comment: the parser ignores DTDs whatever it says.
    /// </summary>
    private static bool DeclaresEntities(byte[] text)
    {
        foreach (Encoding encoding in new[] { Encoding.UTF8, Encoding.Unicode, Encoding.BigEndianUnicode })
        {
            if (IndexOf(text, encoding.GetBytes("<!ENTITY"), 0) >= 0)
            {
                return true;
            }

            int doctype = IndexOf(text, encoding.GetBytes("<!DOCTYPE"), 0);
            if (doctype >= 0)
            {
                int subset = IndexOf(text, encoding.GetBytes("["), doctype);
                int end = IndexOf(text, encoding.GetBytes(">"), doctype);
                if (subset >= 0 && (end < 0 || subset < end))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static int IndexOf(byte[] haystack, byte[] needle, int start)
    {
        for (int i = start; i + needle.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j])
            {
                j++;
            }

            if (j == needle.Length)
            {
                return i;
            }
        }

        return -1;
    }

    // ---- cleaning ----

    /// <summary>
    /// The SVG elements kept (SVG 1.1 and 2, plus Inkscape's mesh gradients); everything else goes with its subtree:
    /// script, foreignObject (HTML), handler/listener, SVG fonts, metadata (RDF), elements of other namespaces.
    /// </summary>
    private static readonly HashSet<string> AllowedElements = new(StringComparer.Ordinal)
    {
        "svg", "g", "defs", "symbol", "use", "switch", "a", "title", "desc", "view",
        "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "image",
        "text", "tspan", "textPath",
        "linearGradient", "radialGradient", "stop", "pattern", "clipPath", "mask", "marker",
        "meshgradient", "meshrow", "meshpatch", "solidcolor", "hatch", "hatchpath",
        "filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feConvolveMatrix",
        "feDiffuseLighting", "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood", "feFuncA", "feFuncB",
        "feFuncG", "feFuncR", "feGaussianBlur", "feImage", "feMerge", "feMergeNode", "feMorphology", "feOffset",
        "fePointLight", "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence",
        "animate", "animateMotion", "animateTransform", "animateColor", "set", "mpath",
        "style",
    };

    private static readonly HashSet<string> AnimationElements = new(StringComparer.Ordinal)
    {
        "animate", "animateMotion", "animateTransform", "animateColor", "set",
    };

    // Raster data: URIs browsers and librsvg decode without scripts; image/svg+xml (a nested document) is not one.
    private static readonly Regex SafeDataImage = new(
        @"^data:image/(png|jpeg|jpg|gif|webp)[;,]", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private static readonly Regex CssImport = new(@"@import\b[^;]*;?", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    // CSS that can fetch or run something without a plain url(…): dropped whole.
    private static readonly Regex CssOtherFetch = new(
        @"(image-set|src|expression)\s*\(|-moz-binding|behavior\s*:", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>Cleans the tree without recursion, so that deeply nested input cannot overflow the stack.</summary>
    private static void CleanTree(XElement root)
    {
        var kept = new List<XElement>();
        var pending = new Stack<XElement>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            XElement element = pending.Pop();
            kept.Add(element);
            foreach (XElement child in element.Elements().ToList())
            {
                if (KeepElement(child))
                {
                    pending.Push(child);
                }
                else
                {
                    child.Remove();
                }
            }
        }

        foreach (XElement element in kept)
        {
            CleanAttributes(element);
            if (element.Name.LocalName == "style" && element != root)
            {
                string? css = SanitizeCss(element.Value, styleSheet: true);
                element.RemoveNodes();
                if (string.IsNullOrWhiteSpace(css))
                {
                    element.Remove();
                }
                else
                {
                    element.Add(new XText(css!));
                }
            }
            else if (element.Name.LocalName == "use" && element != root && HrefOf(element) == null)
            {
                // Its reference pointed outside the document (and is gone): it would draw nothing.
                element.Remove();
            }
        }
    }

    private static bool KeepElement(XElement element)
    {
        if (element.Name.Namespace != Svg || !AllowedElements.Contains(element.Name.LocalName))
        {
            return false;
        }

        if (AnimationElements.Contains(element.Name.LocalName))
        {
            // SMIL can rewrite a link (<set attributeName="href" to="javascript:…"/>), a handler, or a paint to an
            // external url(…).
            string target = ((string?)element.Attribute("attributeName") ?? "").Trim();
            string local = target.Substring(target.IndexOf(':') + 1);
            if (local.Equals("href", StringComparison.OrdinalIgnoreCase) || local.Equals("base", StringComparison.OrdinalIgnoreCase)
                || local.Equals("style", StringComparison.OrdinalIgnoreCase) || local.StartsWith("on", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            foreach (string name in new[] { "from", "to", "by", "values" })
            {
                string? value = (string?)element.Attribute(name);
                if (value != null && !IsSafeValue(value))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static void CleanAttributes(XElement element)
    {
        foreach (XAttribute attribute in element.Attributes().ToList())
        {
            if (!KeepAttribute(attribute))
            {
                attribute.Remove();
            }
            else if (attribute.Name == "style")
            {
                string? css = SanitizeCss(attribute.Value, styleSheet: false);
                if (string.IsNullOrWhiteSpace(css))
                {
                    attribute.Remove();
                }
                else
                {
                    attribute.Value = css!;
                }
            }
        }
    }

    private static bool KeepAttribute(XAttribute attribute)
    {
        if (attribute.IsNamespaceDeclaration)
        {
            // The root declares what is still used (DeclareNamespaces).
            return false;
        }

        XNamespace ns = attribute.Name.Namespace;
        string local = attribute.Name.LocalName;
        if (ns != XNamespace.None && ns != XLink && ns != XNamespace.Xml)
        {
            // inkscape:*, sodipodi:* and the like: no renderer reads them.
            return false;
        }

        if ((ns == XNamespace.Xml && local == "base") || local.StartsWith("on", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (local == "href")
        {
            string target = attribute.Value.Trim();
            return target.StartsWith("#", StringComparison.Ordinal) || SafeDataImage.IsMatch(target);
        }

        return local == "style" || IsSafeValue(attribute.Value);
    }

    /// <summary>No script URL, and every url(…) a fragment of this document.</summary>
    private static bool IsSafeValue(string value) =>
        Compact(value).IndexOf("javascript:", StringComparison.OrdinalIgnoreCase) < 0
        && Urls(value) is { } urls && urls.All(url => IsFragment(url.Target));

    /// <summary>
    /// CSS without what could fetch or run something: @import rules go; in a style attribute each declaration that
    /// points outside the document goes, in a style sheet each such url(…) becomes <c>none</c> (which voids just that
    /// declaration, as a failed fetch would). CSS with escapes (which can spell url or @import in disguise), script
    /// URLs, image-set(), src() or legacy script hooks is dropped whole. Null when nothing is left.
    /// </summary>
    private static string? SanitizeCss(string css, bool styleSheet)
    {
        if (css.IndexOf('\\') >= 0 || Compact(css).IndexOf("javascript:", StringComparison.OrdinalIgnoreCase) >= 0 || CssOtherFetch.IsMatch(css))
        {
            return null;
        }

        string result = CssImport.Replace(css, "");
        if (!styleSheet)
        {
            return string.Join(";", result.Split(';').Where(declaration => declaration.Trim().Length > 0 && IsSafeValue(declaration)));
        }

        List<(int Start, int End, string Target)>? urls = Urls(result);
        if (urls == null)
        {
            return null;
        }

        var kept = new StringBuilder(result.Length);
        int copied = 0;
        foreach ((int start, int end, _) in urls.Where(url => !IsFragment(url.Target)))
        {
            kept.Append(result, copied, start - copied).Append("none");
            copied = end;
        }

        return kept.Append(result, copied, result.Length - copied).ToString();
    }

    /// <summary>
    /// Each url(…) with its span and target (unquoted, trimmed), in one linear pass (no regular expression that could
    /// backtrack); null when one is unterminated or nested in another, which is not trusted. A quoted target holding
    /// ")" is cut short and so is never a fragment.
    /// </summary>
    private static List<(int Start, int End, string Target)>? Urls(string value)
    {
        var urls = new List<(int Start, int End, string Target)>();
        int end = 0;
        for (int at = value.IndexOf("url(", StringComparison.OrdinalIgnoreCase); at >= 0; at = value.IndexOf("url(", at + 4, StringComparison.OrdinalIgnoreCase))
        {
            if (at < end)
            {
                return null;
            }

            int close = value.IndexOf(')', at + 4);
            if (close < 0)
            {
                return null;
            }

            string target = value.Substring(at + 4, close - at - 4).Trim();
            bool quoted = target.Length >= 2 && (target[0] == '"' || target[0] == '\'') && target[target.Length - 1] == target[0];
            urls.Add((at, close + 1, quoted ? target.Substring(1, target.Length - 2).Trim() : target));
            end = close + 1;
        }

        return urls;
    }

    private static bool IsFragment(string target) => target.StartsWith("#", StringComparison.Ordinal);

    // URL parsers drop ASCII whitespace and control characters inside a scheme ("java&#9;script:").
    private static string Compact(string value) => new(value.Where(c => c > ' ').ToArray());

    private static string? HrefOf(XElement element) =>
        (string?)element.Attribute("href") ?? (string?)element.Attribute(XLink + "href");

    private static void DeclareNamespaces(XElement root)
    {
        root.SetAttributeValue("xmlns", Svg.NamespaceName);
        if (root.DescendantsAndSelf().Attributes().Any(a => a.Name.Namespace == XLink))
        {
            root.SetAttributeValue(XNamespace.Xmlns + "xlink", XLink.NamespaceName);
        }
    }

    // ---- sizing ----

    private const double CssPixelsPerInch = 96;

    private static readonly Regex LengthPattern = new(
        @"^\+?((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(px|in|cm|mm|q|pt|pc)?$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>
    /// The drawing's size in CSS pixels and the viewBox to keep. Width and height count when unitless, in px or in an
    /// absolute unit (in, cm, mm, Q, pt, pc at CSS's 96 px per inch, as browsers size them); relative units (%, em,
    /// ex) and missing sides come from the viewBox, keeping its aspect ratio; with no viewBox either, 300×150, the
    /// size browsers give such an SVG.
    /// </summary>
    private static (double Width, double Height, string ViewBox) IntrinsicSize(XElement root)
    {
        double? width = Length((string?)root.Attribute("width"));
        double? height = Length((string?)root.Attribute("height"));
        double[]? box = ViewBox((string?)root.Attribute("viewBox"));
        if (box == null)
        {
            // Without a viewBox the user units are CSS pixels from the top left: the box is the original size.
            double w = width ?? 300;
            double h = height ?? 150;
            return (w, h, "0 0 " + Number(w) + " " + Number(h));
        }

        double boxWidth = box[2];
        double boxHeight = box[3];
        double outWidth = width ?? (height.HasValue ? height.Value * boxWidth / boxHeight : boxWidth);
        double outHeight = height ?? (width.HasValue ? width.Value * boxHeight / boxWidth : boxHeight);
        return (outWidth, outHeight, string.Join(" ", box.Select(Number)));
    }

    private static double? Length(string? value)
    {
        // Trimmed first, so that no two quantifiers can match the same characters (linear time).
        Match match = LengthPattern.Match((value ?? "").Trim());
        if (!match.Success)
        {
            return null;
        }

        double number = double.Parse(match.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
        double pixels = match.Groups[2].Value.ToLowerInvariant() switch
        {
            "in" => number * CssPixelsPerInch,
            "cm" => number * CssPixelsPerInch / 2.54,
            "mm" => number * CssPixelsPerInch / 25.4,
            "q" => number * CssPixelsPerInch / 101.6,
            "pt" => number * CssPixelsPerInch / 72,
            "pc" => number * CssPixelsPerInch / 6,
            _ => number,
        };
        return pixels > 0 && pixels < 1e7 ? pixels : null;
    }

    private static double[]? ViewBox(string? value)
    {
        string[] parts = (value ?? "").Split(new[] { ' ', ',', '\t', '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 4)
        {
            return null;
        }

        var numbers = new double[4];
        for (int i = 0; i < 4; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[i])
                || double.IsNaN(numbers[i]) || Math.Abs(numbers[i]) > 1e9)
            {
                return null;
            }
        }

        return numbers[2] > 0 && numbers[3] > 0 ? numbers : null;
    }

    /// <summary>
    /// The output size and the root's preserveAspectRatio for a fit. With one side given, every fit scales
    /// proportionally. Inside and outside keep the drawing's own preserveAspectRatio (null). Enlarge does not apply:
    /// a vector is as sharp at any size.
    /// </summary>
    private static (double Width, double Height, string? Aspect) Fit(double width, double height, int? requestedWidth, int? requestedHeight, FitMode fit)
    {
        if (requestedWidth is int w && requestedHeight is int h)
        {
            switch (fit)
            {
                case FitMode.Fill:
                    return (w, h, "none");
                case FitMode.Cover:
                    return (w, h, "xMidYMid slice");
                case FitMode.Contain:
                    return (w, h, "xMidYMid meet");
                default:
                    // The side that sets the scale is exact; the other is rounded to whole pixels.
                    bool byWidth = fit == FitMode.Outside ? w / width >= h / height : w / width <= h / height;
                    return byWidth
                        ? (w, Math.Max(1, Math.Round(height * w / width)), null)
                        : (Math.Max(1, Math.Round(width * h / height)), h, null);
            }
        }

        if (requestedWidth is int onlyWidth)
        {
            return (onlyWidth, Math.Max(1, Math.Round(height * onlyWidth / width)), null);
        }

        if (requestedHeight is int onlyHeight)
        {
            return (Math.Max(1, Math.Round(width * onlyHeight / height)), onlyHeight, null);
        }

        return (width, height, null);
    }

    private static int Pixels(double value) => (int)Math.Max(1, Math.Round(value, MidpointRounding.AwayFromZero));

    private static string Number(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
