using System;
using System.Collections.Generic;

namespace KoalaPic.Build.Engine;

/// <summary>
/// An image downloaded instead of read from the project: a KoalaImage's <c>Url</c> and <c>Sha256</c> metadata.
/// The item's Include stays a path (the image's place in the project, which gives its output path), because MSBuild
/// treats every Include as a file path: it computes FullPath for it, and on Windows "https://…" is not a valid path.
/// </summary>
/// <param name="Url">An absolute http:// or https:// URL, as the item gives it.</param>
/// <param name="Sha256">The pinned SHA-256 of the image's bytes, 64 lowercase hex digits; null when not pinned.</param>
/// <param name="DeclaredIn">The project file that declares the item: where diagnostics about the download point.</param>
public sealed record UrlSource(string Url, string? Sha256, string? DeclaredIn)
{
    public const string UrlMetadata = "Url";
    public const string Sha256Metadata = "Sha256";

    /// <summary>
    /// Whether an item is downloaded rather than read from the project: its Url metadata is set. The one place that
    /// decides it (the task, the job and the parser ask here); the targets' <c>WithMetadataValue('Url', '')</c> follows it.
    /// </summary>
    /// <param name="metadata">Returns a metadata value, or an empty string when it is not set.</param>
    public static bool IsUrlItem(Func<string, string> metadata) => UrlOf(metadata).Length > 0;

    /// <summary>The item's Url metadata, trimmed; empty for an item read from the project.</summary>
    public static string UrlOf(Func<string, string> metadata) => metadata(UrlMetadata).Trim();

    /// <summary>
    /// True for an item spec that is a URL ("https://…", "file://…") rather than a path: a scheme (a letter, then
    /// letters, digits, '+', '.' or '-'), a colon and two slashes or backslashes. Checked by hand: a regular
    /// expression would be built again in every build process, for every project.
    /// </summary>
    public static bool LooksLikeUrl(string itemSpec)
    {
        string text = itemSpec.Trim();
        int colon = text.IndexOf(':');
        if (colon < 1 || colon + 2 >= text.Length || !IsAsciiLetter(text[0]))
        {
            return false;
        }

        for (int i = 1; i < colon; i++)
        {
            char c = text[i];
            if (!(IsAsciiLetter(c) || (c >= '0' && c <= '9') || c is '+' or '.' or '-'))
            {
                return false;
            }
        }

        return text[colon + 1] is '/' or '\\' && text[colon + 2] is '/' or '\\';
    }

    private static bool IsAsciiLetter(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

    /// <summary>
    /// Reads Url and Sha256 from an item. Returns null for an item without Url (a file in the project) and for invalid
    /// metadata, which adds an error diagnostic.
    /// </summary>
    public static UrlSource? Parse(string itemSpec, Func<string, string> metadata, string projectFile, ICollection<Diagnostic> diagnostics)
    {
        string url = UrlOf(metadata);
        string sha256 = metadata(Sha256Metadata).Trim();
        if (LooksLikeUrl(itemSpec))
        {
            diagnostics.Add(Diagnostic.Error(
                DiagnosticCodes.UrlAsInclude,
                $"KoalaImage '{Redact(itemSpec)}': a URL cannot be the Include, which MSBuild treats as a file path. Put the image's path in the project in Include and the URL in Url, such as <KoalaImage Include=\"img/hero.png\" Url=\"{Redact(itemSpec.Trim())}\" Sha256=\"…\" />.",
                projectFile));
            return null;
        }

        if (!IsUrlItem(metadata))
        {
            if (sha256.Length > 0)
            {
                diagnostics.Add(Diagnostic.Error(
                    DiagnosticCodes.InvalidSha256,
                    $"KoalaImage '{itemSpec}': Sha256=\"{sha256}\" is set but Url is not; Sha256 pins the bytes downloaded from Url. Remove Sha256, or add Url.",
                    projectFile));
            }

            return null;
        }

        int before = diagnostics.Count;
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Host.Length == 0)
        {
            string scheme = uri != null && uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps ? $" ({uri.Scheme}:// is refused)" : "";
            diagnostics.Add(Diagnostic.Error(
                DiagnosticCodes.InvalidUrl,
                $"KoalaImage '{itemSpec}': Url=\"{Redact(url)}\" is not valid{scheme}. Accepted values: an absolute http:// or https:// URL, such as https://cdn.example.com/hero.png. For a file in the project, remove Url and give its path in Include.",
                projectFile));
        }
        else if (uri.UserInfo.Length > 0 || HasUserInfo(url))
        {
            // Refused rather than sent or stored: it would reach the log, report.json, the download cache's index and
            // every server a redirect leads to. The message shows the URL with the credentials masked.
            diagnostics.Add(Diagnostic.Error(
                DiagnosticCodes.UrlWithCredentials,
                $"KoalaImage '{itemSpec}': Url=\"{Redact(url)}\" has a user name or password in it, which KoalaPic refuses: it is never sent, logged or stored. Give the image a URL that needs no credentials (a public or pre-signed URL), or download it into the project first.",
                projectFile));
        }

        string? pin = null;
        if (sha256.Length > 0)
        {
            pin = NormalizeSha256(sha256);
            if (pin == null)
            {
                diagnostics.Add(Diagnostic.Error(
                    DiagnosticCodes.InvalidSha256,
                    $"KoalaImage '{itemSpec}': Sha256=\"{sha256}\" is not valid. Accepted values: the SHA-256 of the image's bytes as 64 hexadecimal digits (sha256sum prints it), or empty to be told the hash of what is downloaded.",
                    projectFile));
            }
        }

        return diagnostics.Count > before ? null : new UrlSource(url, pin, projectFile);
    }

    /// <summary>
    /// The text with the user information of a URL in it ("https://user:password@host/…") masked as "***", so that no
    /// credentials reach a log, a report or a file; anything else unchanged.
    /// </summary>
    public static string Redact(string text)
    {
        int at = UserInfoEnd(text, out int start);
        return at < 0 ? text : text.Substring(0, start) + "***" + text.Substring(at);
    }

    internal static bool HasUserInfo(string text) => UserInfoEnd(text, out _) >= 0;

    /// <summary>The index of the '@' that ends a URL's user information, or -1 (the authority is between "://" and the next '/', '\', '?' or '#').</summary>
    private static int UserInfoEnd(string text, out int start)
    {
        int scheme = text.IndexOf("://", StringComparison.Ordinal);
        start = scheme + 3;
        if (scheme < 0)
        {
            return -1;
        }

        int end = text.IndexOfAny(new[] { '/', '\\', '?', '#' }, start);
        if (end < 0)
        {
            end = text.Length;
        }

        return end > start ? text.LastIndexOf('@', end - 1, end - start) : -1;
    }

    /// <summary>64 hex digits, lowercased; "sha256:" in front is accepted. Null for anything else.</summary>
    internal static string? NormalizeSha256(string text)
    {
        string hex = text.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase) ? text.Substring(7) : text;
        if (hex.Length != 64)
        {
            return null;
        }

        foreach (char c in hex)
        {
            if (!Uri.IsHexDigit(c))
            {
                return null;
            }
        }

        return hex.ToLowerInvariant();
    }
}
