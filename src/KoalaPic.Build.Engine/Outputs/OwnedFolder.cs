using System;
using System.IO;

namespace KoalaPic.Build.Engine;

/// <summary>A write or delete refused because a folder on its way is a link that leads outside the folder KoalaPic owns.</summary>
public sealed class OutsideOwnedFolderException : IOException
{
    public OutsideOwnedFolderException(string message) : base(message) { }
}

/// <summary>
/// A folder KoalaPic writes and deletes in (obj/…/koalapic/out, bin/…). The real path of every folder on the way to a
/// file, links followed, must stay inside the folder's own real path: a link planted in bin/ or obj/
/// (<c>bin/Debug/net10.0/img → ~/.ssh</c>) would otherwise make stale-output deletion and output writes touch files
/// anywhere. The folder itself may be a link (obj/ on another disk): it is resolved once, first.
/// </summary>
public sealed class OwnedFolder
{
    private const int MaxLinkHops = 40; // Linux's own limit (ELOOP)

    private static readonly PathRules Rules = PathRules.Current;

    private static readonly char[] Separators = Rules.Separators;

    private readonly string realRoot;

    public OwnedFolder(string root)
    {
        Root = Path.GetFullPath(root).TrimEnd(Separators);
        realRoot = RealPath(Root);
    }

    public string Root { get; }

    /// <summary>The full path of <paramref name="relativePath"/> here, once its folder, resolved, is known to be inside.</summary>
    /// <exception cref="OutsideOwnedFolderException">A folder on the way is a link that leads outside (or climbs out with "..").</exception>
    public string Resolve(string relativePath)
    {
        string file = Path.GetFullPath(Path.Combine(Root, relativePath));
        if (!Rules.IsInside(file, Root))
        {
            throw new OutsideOwnedFolderException($"'{relativePath}' is not inside '{Root}'");
        }

        // Only the part below the root is walked: the root's own links were resolved once.
        string relativeFolder = Path.GetDirectoryName(file)!.Substring(Root.Length);
        int hops = 0;
        string realFolder = Walk(realRoot, relativeFolder, ref hops);
        if (!Rules.IsInside(realFolder, realRoot))
        {
            throw new OutsideOwnedFolderException(
                $"its folder is a link: '{Path.GetDirectoryName(file)}' leads to '{realFolder}', outside '{Root}', and KoalaPic writes and deletes only inside the folders it owns");
        }

        return file;
    }

    /// <summary>Like <see cref="Resolve"/>, but null instead of the exception.</summary>
    public string? TryResolve(string relativePath)
    {
        try
        {
            return Resolve(relativePath);
        }
        catch (OutsideOwnedFolderException)
        {
            return null;
        }
    }

    /// <summary>The path with every link on it followed, as realpath(3); parts that do not exist yet are kept as they are.</summary>
    public static string RealPath(string path)
    {
        string full = Path.GetFullPath(path);
        string root = Path.GetPathRoot(full)!;
        int hops = 0;
        return Walk(root, full.Substring(root.Length), ref hops);
    }

    private static string Walk(string realStart, string relative, ref int hops)
    {
        string current = realStart;
        foreach (string segment in relative.Split(Separators, StringSplitOptions.RemoveEmptyEntries))
        {
            string next = Path.Combine(current, segment);
            string? target = LinkTarget(next);
            if (target != null)
            {
                if (++hops > MaxLinkHops)
                {
                    throw new OutsideOwnedFolderException($"'{next}' has more than {MaxLinkHops} links on its way (a link loop)");
                }

                string full = Path.GetFullPath(Path.Combine(current, target));
                string root = Path.GetPathRoot(full)!;
                next = Walk(root, full.Substring(root.Length), ref hops);
            }

            current = next;
        }

        return current;
    }

    private static string? LinkTarget(string path)
    {
#if NET
        try
        {
            return new FileInfo(path).LinkTarget; // null when no link, or nothing there yet
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
#else
        // The .NET Framework task never converts in process (koalapic, on .NET, does): it writes no output.
        return null;
#endif
    }
}
