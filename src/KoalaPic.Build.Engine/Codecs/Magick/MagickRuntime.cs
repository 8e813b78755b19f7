using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security;
using System.Security.Cryptography;
using System.Text;
using ImageMagick;
using ImageMagick.Configuration;

namespace KoalaPic.Build.Engine;

/// <summary>
/// Process-wide ImageMagick set-up, done once and only when an item needs ImageMagick (ico, bmp, pdf, jxl output; HEIC, JXL input):
/// the native library where <see cref="NativeLocations"/> finds it, and a restrictive security policy that is verified to be in force
/// before any image is touched.
/// </summary>
/// <remarks>
/// Magick.NET applies no policy unless configuration files are handed to it before its first native call, and it reads
/// them from the folder named by MAGICK_CONFIGURE_PATH. This class writes them to a folder it owns (per user, named by
/// the Magick.NET version and a hash of the files' text), points ImageMagick at it and makes the first native call. As
/// ImageMagick also reads policy files from other folders after ours, the policy is then appended once more as the last
/// word where Magick.NET's native library allows it (Linux; see <see cref="MagickPolicyPins"/>), and elsewhere a policy
/// file in a shared folder stops ImageMagick from being used. Finally the policy is proven in force: an MVG script, which
/// every unrestricted ImageMagick decodes, must be refused. Every Magick.NET type is used inside Magick/ only, so a
/// build that needs none of these formats never loads Magick.NET.
/// </remarks>
internal static class MagickRuntime
{
    /// <summary>ImageMagick could not be loaded, or its security policy could not be put in force.</summary>
    internal const string EngineUnavailable = MagickCodec.ImageMagickUnavailable;

    // Ceilings for ImageMagick's resources. The policy file sets them and Magick.NET's ResourceLimits repeats them
    // (ImageMagick takes the lower of the two). Images reach ImageMagick already resized, or, for HEIC input, after the
    // caller's pixel limit was checked on the header, so these are a second line only: about twice sharp's default
    // pixel limit (0x3FFF x 0x3FFF, 268 million) in memory, never on disk.
    internal const ulong MaxWidth = 65_535;
    internal const ulong MaxHeight = 65_535;
    internal const ulong MaxArea = 536_870_912;
    internal const ulong MaxMemory = 2UL * 1024 * 1024 * 1024;
    internal const ulong MaxListLength = 256; // an .ico may hold one entry per size 1..256
    internal const ulong MaxSecondsPerImage = 120;

    private static readonly object Gate = new();
    private static volatile bool initialized;
    private static ImageConversionException? failure;

    /// <summary>Whether ImageMagick was started in this process (tests use it to prove that it was not).</summary>
    internal static bool IsInitialized => initialized;

    /// <summary>The folder holding the configuration (policy.xml and the other files ImageMagick reads).</summary>
    internal static string? ConfigurationFolder { get; private set; }

    /// <summary>The folder where ImageMagick writes its temporary files (HEIC input and PDF output pass through one).</summary>
    internal static string? TemporaryFolder { get; private set; }

    /// <summary>
    /// The security policy. ImageMagick evaluates policies in order and the last match wins, so each domain starts with a
    /// deny-all and then allows the few coders KoalaPic uses, taken from the format descriptors
    /// (<see cref="FormatDescriptor.Magick"/>): read for a format ImageMagick decodes, write for one it encodes. A coder
    /// matched by two rules gets only the last one's rights, so each coder is in exactly one rule, with all its rights.
    /// Coders are checked by name and again by module (a module registers only with read and write rights, so the
    /// direction is set per coder). Pixels go in and out with ImportImagePixels/ExportImagePixels, which need no coder.
    /// Denying every other coder also denies the pseudo-formats that read files or URLs or run scripts (TEXT, MSL, MVG,
    /// EPHEMERAL, INLINE, LABEL, CAPTION, URL, HTTP(S), FTP, SVG, PS/EPS through Ghostscript, …).
    /// </summary>
    internal static string PolicyXml(string temporaryFolder) => string.Format(
        CultureInfo.InvariantCulture,
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <!-- Written by KoalaPic.Build: a restrictive ImageMagick policy. Last match wins. -->
        <policymap>
          <policy domain="resource" name="temporary-path" value="{0}"/>
          <policy domain="resource" name="memory" value="{1}"/>
          <policy domain="resource" name="map" value="{1}"/>
          <policy domain="resource" name="disk" value="0"/>
          <policy domain="resource" name="area" value="{2}"/>
          <policy domain="resource" name="width" value="{3}"/>
          <policy domain="resource" name="height" value="{4}"/>
          <policy domain="resource" name="list-length" value="{5}"/>
          <policy domain="resource" name="time" value="{6}"/>
          <policy domain="resource" name="thread" value="1"/>
          <policy domain="system" name="max-memory-request" value="{1}"/>
          <policy domain="delegate" rights="none" pattern="*"/>
          <policy domain="filter" rights="none" pattern="*"/>
          <policy domain="path" rights="none" pattern="@*"/>
          <policy domain="path" rights="none" pattern="|*"/>
          <policy domain="module" rights="none" pattern="*"/>
          <policy domain="module" rights="read|write" pattern="{7}"/>
          <policy domain="coder" rights="none" pattern="*"/>
        {8}
        </policymap>

        """,
        SecurityElement.Escape(temporaryFolder),
        MaxMemory,
        MaxArea,
        MaxWidth,
        MaxHeight,
        MaxListLength,
        MaxSecondsPerImage,
        Pattern(ImageFormats.All.Where(f => f.Magick != null).SelectMany(f => f.Magick!.Modules)),
        string.Join("\n", CoderRights().Select(rule => $"  <policy domain=\"coder\" rights=\"{rule.Key}\" pattern=\"{Pattern(rule)}\"/>")));

    /// <summary>The coders of the format descriptors, grouped by their rights (read, write, read|write), each coder once.</summary>
    private static IEnumerable<IGrouping<string, string>> CoderRights()
    {
        var rights = new Dictionary<string, (bool Read, bool Write)>(StringComparer.Ordinal);
        foreach (FormatDescriptor format in ImageFormats.All.Where(f => f.Magick != null))
        {
            foreach (string coder in format.Magick!.Coders)
            {
                rights.TryGetValue(coder, out var had);
                rights[coder] = (had.Read || format.DecodedByImageMagick, had.Write || format.EncodedByImageMagick);
            }
        }

        return rights
            .GroupBy(r => r.Value.Read && r.Value.Write ? "read|write" : r.Value.Read ? "read" : "write", r => r.Key)
            .OrderBy(g => g.Key == "read" ? 0 : g.Key == "write" ? 1 : 2);
    }

    /// <summary>An ImageMagick policy pattern: <c>HEIC</c>, or <c>{ICO,PNG32}</c> for several.</summary>
    private static string Pattern(IEnumerable<string> names)
    {
        var distinct = names.Distinct(StringComparer.Ordinal).ToList();
        return distinct.Count == 1 ? distinct[0] : "{" + string.Join(",", distinct) + "}";
    }

    /// <exception cref="ImageConversionException"><see cref="EngineUnavailable"/>: ImageMagick cannot be loaded on this
    /// platform, or its security policy is not in force.</exception>
    public static void EnsureInitialized()
    {
        if (initialized)
        {
            return;
        }

        lock (Gate)
        {
            if (initialized)
            {
                return;
            }

            // A failed start is not retried: ImageMagick's configuration is read once per process, so every later item
            // gets the same answer.
            if (failure == null)
            {
                try
                {
                    Start();
                    initialized = true;
                    return;
                }
                catch (ImageConversionException ex)
                {
                    failure = ex;
                }
                catch (Exception ex)
                {
                    failure = Unavailable("ImageMagick could not be loaded: " + OneLine(ex), ex);
                }
            }

            throw new ImageConversionException(failure.Code, failure.Message, failure.InnerException ?? failure);
        }
    }

    private static void Start()
    {
        if (NativeLocations.Current is { MagickDirectory: { Length: > 0 } wanted } && NativeLocations.MagickDirectoryIfExists == null)
        {
            throw Unavailable(
                $"ImageMagick's native library is not in '{wanted}'. The build downloads Magick.NET for this machine only when a KoalaImage item needs it by its metadata or name ({ImageMagickNeed.Description}). Set <KoalaPicImageMagick>true</KoalaPicImageMagick> in the project (a HEIC image under another name, or a Url), and build again.",
                null);
        }

        NativeLocations.RegisterMagickResolver(typeof(MagickImage).Assembly);

        string root = PrivateRoot();
        string temporary = Path.Combine(root, "tmp");
        CreatePrivateDirectory(temporary);
        ConfigurationFile[] files = ConfigurationFiles(temporary);
        string folder = WriteConfiguration(root, files);

        // MAGICK_CONFIGURE_PATH is set with the C library's setenv; ImageMagick reads it when it first loads its policy,
        // during its first native call below. Restored afterwards, so that ImageMagick tools started later by the build
        // (on Windows they would inherit it) keep their own configuration.
        // (Read through .NET: asking ImageMagick would start it before it is pointed at our folder.)
        string? previous = System.Environment.GetEnvironmentVariable("MAGICK_CONFIGURE_PATH");
        MagickNET.Initialize(folder);
        try
        {
            // The first native call: ImageMagick starts and loads its policy, ours first.
            ApplyResourceLimits();
            if (!MagickPolicyPins.AppendAndVerify(PolicyXml(temporary)))
            {
                RefuseSharedPolicyFiles(SharedConfigurationFolders);
            }

            VerifyPolicyInForce();
        }
        finally
        {
            MagickNET.SetEnvironmentVariable("MAGICK_CONFIGURE_PATH", previous ?? string.Empty);
        }

        ConfigurationFolder = folder;
        TemporaryFolder = temporary;
    }

    /// <summary>
    /// Configuration folders compiled into Magick.Native's Linux and macOS builds. ImageMagick reads a policy.xml from
    /// each after ours, and /tmp/ImageMagick can be created by any local user.
    /// </summary>
    internal static readonly string[] SharedConfigurationFolders =
    {
        "/tmp/ImageMagick/share/ImageMagick-7",
        "/tmp/ImageMagick/lib/ImageMagick-7.1.2/config-Q8",
        "/tmp/ImageMagick/etc/ImageMagick-7",
        "/tmp/ImageMagick/share/doc/ImageMagick-7",
    };

    /// <summary>
    /// Where the policy cannot be pinned last (Magick.Native exports no MagickCore functions on macOS and Windows), a
    /// policy.xml in a shared folder read after ours could loosen it: then ImageMagick is not used.
    /// </summary>
    internal static void RefuseSharedPolicyFiles(IEnumerable<string> folders)
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            return;
        }

        string? planted = folders.Select(f => Path.Combine(f, "policy.xml")).FirstOrDefault(File.Exists);
        if (planted != null)
        {
            throw Unavailable(
                $"ImageMagick would also read '{planted}', a security policy in a folder any local user can create, and could be loosened by it. Remove that file (ImageMagick is not used while it exists).",
                null);
        }
    }

    private static void ApplyResourceLimits()
    {
        ResourceLimits.Width = MaxWidth;
        ResourceLimits.Height = MaxHeight;
        ResourceLimits.Area = MaxArea;
        ResourceLimits.Memory = MaxMemory;
        ResourceLimits.MaxMemoryRequest = MaxMemory;
        ResourceLimits.Disk = 0;
        ResourceLimits.ListLength = MaxListLength;
        ResourceLimits.Time = MaxSecondsPerImage;
        ResourceLimits.Thread = 1;
    }

    /// <summary>
    /// Proves the policy is the one ImageMagick uses: an MVG script (a vector format any unrestricted ImageMagick draws)
    /// must be refused, and BMP, which the policy allows, must be written. If other code in this process started
    /// ImageMagick first, its configuration was read before ours and the MVG is drawn: then ImageMagick is not used.
    /// </summary>
    private static void VerifyPolicyInForce()
    {
        byte[] script = Encoding.ASCII.GetBytes("viewbox 0 0 2 2\nfill red\nrectangle 0 0 1 1\n");
        bool refused;
        try
        {
            using var drawn = new MagickImage(script, new MagickReadSettings { Format = MagickFormat.Mvg });
            refused = false;
        }
        catch (MagickException)
        {
            refused = true;
        }

        if (!refused)
        {
            throw Unavailable(
                "ImageMagick's security policy is not in force (other code in this process started ImageMagick with its own configuration first), so ImageMagick is not used.",
                null);
        }

        using var probe = new MagickImage();
        probe.ReadPixels(new byte[] { 255, 255, 255 }, new PixelReadSettings(1, 1, StorageType.Char, PixelMapping.RGB));
        if (probe.ToByteArray(MagickFormat.Bmp).Length == 0)
        {
            throw Unavailable("ImageMagick wrote an empty BMP while checking its configuration.", null);
        }
    }

    private sealed record ConfigurationFile(string FileName, byte[] Bytes);

    /// <summary>
    /// The files ImageMagick reads: its defaults, except our policy and no delegates (external programs) and no fonts.
    /// Magick.NET's <see cref="MagickNET.Initialize(string)"/> requires every file to exist.
    /// </summary>
    private static ConfigurationFile[] ConfigurationFiles(string temporaryFolder)
    {
        IConfigurationFiles files = ImageMagick.Configuration.ConfigurationFiles.Default;
        files.Policy.Data = PolicyXml(temporaryFolder);
        files.Delegates.Data = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<delegatemap>\n</delegatemap>\n";
        files.Type.Data = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<typemap>\n</typemap>\n";
        files.TypeGhostscript.Data = files.Type.Data;
        return files.All
            .Select(f => new ConfigurationFile(f.FileName, Encoding.UTF8.GetBytes(f.Data)))
            .OrderBy(f => f.FileName, StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>
    /// Puts the files in <c>root/&lt;Magick.NET version&gt;-&lt;hash of the files&gt;</c>, written once per version and
    /// policy: staged in a private folder and renamed into place, so a reader never sees half of them. A folder that
    /// exists but does not hold exactly these bytes is not used.
    /// </summary>
    private static string WriteConfiguration(string root, ConfigurationFile[] files)
    {
        string version = typeof(MagickImage).Assembly.GetName().Version?.ToString() ?? "0";
        string folder = Path.Combine(root, version + "-" + Hash(files));
        if (Holds(folder, files))
        {
            return folder;
        }

        string staging = Path.Combine(root, ".staging-" + Guid.NewGuid().ToString("N"));
        CreatePrivateDirectory(staging);
        foreach (ConfigurationFile file in files)
        {
            File.WriteAllBytes(Path.Combine(staging, file.FileName), file.Bytes);
        }

        if (!Directory.Exists(folder))
        {
            try
            {
                Directory.Move(staging, folder);
            }
            catch (IOException)
            {
                // Another process put the same folder in place first.
            }
        }

        if (Holds(folder, files))
        {
            TryDeleteDirectory(staging);
            return folder;
        }

        // The named folder holds something else (damaged or replaced): use our freshly written copy instead.
        return staging;
    }

    private static bool Holds(string folder, ConfigurationFile[] files)
    {
        if (!Directory.Exists(folder))
        {
            return false;
        }

        foreach (ConfigurationFile file in files)
        {
            string path = Path.Combine(folder, file.FileName);
            try
            {
                if (!File.Exists(path) || !File.ReadAllBytes(path).AsSpan().SequenceEqual(file.Bytes))
                {
                    return false;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }

        return true;
    }

    private static string Hash(ConfigurationFile[] files)
    {
        using var sha = SHA256.Create();
        foreach (ConfigurationFile file in files)
        {
            byte[] name = Encoding.UTF8.GetBytes(file.FileName + "\n" + file.Bytes.Length.ToString(CultureInfo.InvariantCulture) + "\n");
            sha.TransformBlock(name, 0, name.Length, null, 0);
            sha.TransformBlock(file.Bytes, 0, file.Bytes.Length, null, 0);
        }

        sha.TransformFinalBlock(Array.Empty<byte>(), 0, 0);
        return Convert.ToHexString(sha.Hash!, 0, 8).ToLowerInvariant();
    }

    /// <summary>
    /// A folder only this user can write. Windows' temp folder is per user already; on Unix /tmp is shared, so the folder
    /// carries the user name, is created with mode 0700 and is used only if it still has that mode (a folder another user
    /// planted there is either not writable by us or has other modes).
    /// </summary>
    private static string PrivateRoot()
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            string root = Path.Combine(Path.GetTempPath(), "koalapic-magick");
            Directory.CreateDirectory(root);
            return root;
        }

        string shared = Path.Combine(Path.GetTempPath(), "koalapic-magick-" + SafeName(Environment.UserName));
        CreatePrivateDirectory(shared);
        if (File.GetUnixFileMode(shared) == PrivateMode)
        {
            return shared;
        }

        // Someone else's folder under our name: a new private folder for this process (left behind, as it is tiny).
        return Directory.CreateTempSubdirectory("koalapic-magick-").FullName;
    }

    private const UnixFileMode PrivateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private static void CreatePrivateDirectory(string path)
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, PrivateMode);
        }
    }

    private static string SafeName(string name)
    {
        var safe = new StringBuilder();
        foreach (char c in name)
        {
            safe.Append(char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        }

        return safe.Length == 0 ? "user" : safe.ToString();
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static ImageConversionException Unavailable(string reason, Exception? inner) => new(
        EngineUnavailable,
        reason + " ImageMagick is needed for " + ImageFormats.NamesWhere(f => f.EncodedByImageMagick) + " output and " + ImageFormats.NamesWhere(f => f.DecodedByImageMagick) + " input; it ships for win-x64, win-x86, win-arm64, linux-x64, linux-arm64, linux-musl-x64, linux-musl-arm64 and osx-arm64 (this is " + NativeHost.Current.RuntimeIdentifier + ").",
        inner);

    /// <summary>An exception's message on one line (ImageMagick's include the failing coder and a source location).</summary>
    internal static string OneLine(Exception ex)
    {
        Exception innermost = ex is TypeInitializationException { InnerException: { } inner } ? inner : ex;
        string message = string.Join(" ", innermost.Message.Split(new[] { '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()));
        return message.Length == 0 ? innermost.GetType().Name : message;
    }
}
