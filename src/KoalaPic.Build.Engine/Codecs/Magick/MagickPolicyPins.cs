using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using ImageMagick;

namespace KoalaPic.Build.Engine;

/// <summary>
/// Pins KoalaPic's policy as ImageMagick's last word, and asks ImageMagick itself whether it is obeyed.
/// </summary>
/// <remarks>
/// ImageMagick loads every policy.xml on its search path, ours (MAGICK_CONFIGURE_PATH) first, then the folders compiled
/// into Magick.Native (on Linux under /tmp/ImageMagick/, which any local user can create) and ~/.config/ImageMagick/;
/// the last matching rule wins, so a file found later could loosen ours. MagickCore's SetMagickSecurityPolicy appends
/// rules after all of those, and IsRightsAuthorized evaluates them exactly as a read or write would. Magick.NET does not
/// wrap either; the Linux builds of Magick.Native export them (the Windows and macOS builds do not, and there the
/// behavioural checks in <see cref="MagickRuntime"/> are what proves the policy).
/// </remarks>
internal static class MagickPolicyPins
{
    /// <summary>MagickCore's PolicyDomain (MagickCore/policy.h).</summary>
    internal enum Domain
    {
        Coder = 1,
        Delegate = 2,
        Filter = 3,
        Path = 4,
        Module = 8,
    }

    /// <summary>MagickCore's PolicyRights.</summary>
    [Flags]
    internal enum Rights
    {
        Read = 1,
        Write = 2,
        Execute = 4,
    }

    /// <summary>What KoalaPic needs ImageMagick to do, by coder and by module.</summary>
    internal static readonly (Domain Domain, Rights Rights, string Name)[] Allowed =
    {
        (Domain.Coder, Rights.Read, "HEIC"),
        (Domain.Coder, Rights.Write, "ICO"),
        (Domain.Coder, Rights.Write, "BMP"),
        (Domain.Coder, Rights.Write, "BMP3"),
        (Domain.Coder, Rights.Write, "PDF"),
        (Domain.Coder, Rights.Write, "PNG32"),
        (Domain.Coder, Rights.Write, "JPEG"),
        (Domain.Module, Rights.Read | Rights.Write, "HEIC"),
        (Domain.Module, Rights.Read | Rights.Write, "ICON"),
        (Domain.Module, Rights.Read | Rights.Write, "BMP"),
        (Domain.Module, Rights.Read | Rights.Write, "PDF"),
        (Domain.Module, Rights.Read | Rights.Write, "PNG"),
        (Domain.Module, Rights.Read | Rights.Write, "JPEG"),
    };

    /// <summary>
    /// A sample of what must stay refused: file- and URL-reading pseudo-formats, scripts, vector formats that reach
    /// files or programs, readers of the formats we only write, and external programs.
    /// </summary>
    internal static readonly (Domain Domain, Rights Rights, string Name)[] Refused =
    {
        (Domain.Coder, Rights.Read, "MVG"),
        (Domain.Coder, Rights.Read, "MSL"),
        (Domain.Coder, Rights.Read, "TEXT"),
        (Domain.Coder, Rights.Read, "TXT"),
        (Domain.Coder, Rights.Read, "EPHEMERAL"),
        (Domain.Coder, Rights.Read, "INLINE"),
        (Domain.Coder, Rights.Read, "LABEL"),
        (Domain.Coder, Rights.Read, "CAPTION"),
        (Domain.Coder, Rights.Read, "URL"),
        (Domain.Coder, Rights.Read, "HTTP"),
        (Domain.Coder, Rights.Read, "HTTPS"),
        (Domain.Coder, Rights.Read, "FTP"),
        (Domain.Coder, Rights.Read, "SVG"),
        (Domain.Coder, Rights.Read, "MSVG"),
        (Domain.Coder, Rights.Read, "RSVG"),
        (Domain.Coder, Rights.Read, "PS"),
        (Domain.Coder, Rights.Read, "EPS"),
        (Domain.Coder, Rights.Read, "PDF"),
        (Domain.Coder, Rights.Read, "XC"),
        (Domain.Coder, Rights.Read, "MPR"),
        (Domain.Coder, Rights.Read, "PNG"),
        (Domain.Coder, Rights.Read, "ICO"),
        (Domain.Coder, Rights.Read, "BMP"),
        (Domain.Coder, Rights.Write, "MSL"),
        (Domain.Coder, Rights.Write, "TEXT"),
        (Domain.Coder, Rights.Write, "EPHEMERAL"),
        (Domain.Coder, Rights.Write, "HEIC"),
        (Domain.Module, Rights.Read, "MVG"),
        (Domain.Module, Rights.Read, "MSL"),
        (Domain.Module, Rights.Read, "TXT"),
        (Domain.Module, Rights.Read, "URL"),
        (Domain.Module, Rights.Read, "SVG"),
        (Domain.Delegate, Rights.Execute, "gs"),
        (Domain.Delegate, Rights.Execute, "inkscape"),
        (Domain.Delegate, Rights.Execute, "ffmpeg"),
        (Domain.Delegate, Rights.Execute, "https"),
        (Domain.Path, Rights.Read, "@/etc/passwd"),
    };

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr AcquireExceptionInfoFunction();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr DestroyExceptionInfoFunction(IntPtr exception);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int SetMagickSecurityPolicyFunction(IntPtr policy, IntPtr exception);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int IsRightsAuthorizedFunction(int domain, int rights, IntPtr pattern);

    private static IsRightsAuthorizedFunction? isRightsAuthorized;

    /// <summary>Whether this platform's Magick.Native exports the MagickCore policy functions.</summary>
    internal static bool Available => isRightsAuthorized != null;

    /// <summary>
    /// Appends <paramref name="policyXml"/> after every policy ImageMagick loaded, then checks <see cref="Allowed"/> and
    /// <see cref="Refused"/> against ImageMagick's own evaluation. Does nothing where the functions are not exported.
    /// </summary>
    /// <returns>Whether the policy was pinned.</returns>
    /// <exception cref="ImageConversionException">ImageMagick rejected the policy, or does not evaluate it as written.</exception>
    internal static bool AppendAndVerify(string policyXml)
    {
        IntPtr library = NativeLibrary.Load(MagickNativeName(), typeof(MagickImage).Assembly, null);
        if (!NativeLibrary.TryGetExport(library, "SetMagickSecurityPolicy", out IntPtr setPolicy)
            || !NativeLibrary.TryGetExport(library, "IsRightsAuthorized", out IntPtr isAuthorized)
            || !NativeLibrary.TryGetExport(library, "AcquireExceptionInfo", out IntPtr acquireException)
            || !NativeLibrary.TryGetExport(library, "DestroyExceptionInfo", out IntPtr destroyException))
        {
            return false;
        }

        var acquire = Marshal.GetDelegateForFunctionPointer<AcquireExceptionInfoFunction>(acquireException);
        var destroy = Marshal.GetDelegateForFunctionPointer<DestroyExceptionInfoFunction>(destroyException);
        var set = Marshal.GetDelegateForFunctionPointer<SetMagickSecurityPolicyFunction>(setPolicy);
        IntPtr exception = acquire();
        IntPtr text = Marshal.StringToCoTaskMemUTF8(policyXml);
        try
        {
            if (set(text, exception) == 0)
            {
                throw Failure("ImageMagick rejected KoalaPic's security policy.");
            }
        }
        finally
        {
            Marshal.FreeCoTaskMem(text);
            destroy(exception);
        }

        isRightsAuthorized = Marshal.GetDelegateForFunctionPointer<IsRightsAuthorizedFunction>(isAuthorized);
        var wrong = new List<string>();
        foreach (var (domain, rights, name) in Allowed)
        {
            if (IsAuthorized(domain, rights, name) != true)
            {
                wrong.Add($"{domain} {name} {rights} is refused");
            }
        }

        foreach (var (domain, rights, name) in Refused)
        {
            if (IsAuthorized(domain, rights, name) != false)
            {
                wrong.Add($"{domain} {name} {rights} is allowed");
            }
        }

        if (wrong.Count > 0)
        {
            throw Failure("ImageMagick does not apply KoalaPic's security policy: " + string.Join(", ", wrong) + ".");
        }

        return true;
    }

    /// <summary>ImageMagick's own verdict, or null where the function is not available.</summary>
    internal static bool? IsAuthorized(Domain domain, Rights rights, string pattern)
    {
        IsRightsAuthorizedFunction? function = isRightsAuthorized;
        if (function == null)
        {
            return null;
        }

        IntPtr text = Marshal.StringToCoTaskMemUTF8(pattern);
        try
        {
            return function((int)domain, (int)rights, text) != 0;
        }
        finally
        {
            Marshal.FreeCoTaskMem(text);
        }
    }

    /// <summary>The library name Magick.NET-Q8-AnyCPU imports for this process's architecture.</summary>
    private static string MagickNativeName() => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X86 => "Magick.Native-Q8-x86.dll",
        Architecture.Arm64 => "Magick.Native-Q8-arm64.dll",
        _ => "Magick.Native-Q8-x64.dll",
    };

    private static ImageConversionException Failure(string reason) => new(MagickCodec.ImageMagickUnavailable, reason + " ImageMagick is not used.");
}
