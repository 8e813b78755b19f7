using System;
using System.Collections.Generic;
using NetVips;
#if NET
using System.Collections.Concurrent;
using System.IO;
using System.Runtime.InteropServices;
#endif

namespace KoalaPic.Build.Engine;

/// <summary>
/// HEIC (HEVC-coded HEIF) output through the system's libheif and its x265 encoder, loaded at run time: no engine
/// KoalaPic ships encodes HEVC (NetVips.Native's libheif has AV1 only, and x265 is GPL, so it cannot be bundled).
/// </summary>
internal static class HeicEncoder
{
    /// <summary>libheif or its HEVC encoder is not installed (the lead moves this to <see cref="DiagnosticCodes"/>).</summary>
    internal const string EncoderMissingCode = DiagnosticCodes.HeicEncoderMissing;

    /// <summary>The file names libheif has on this platform, in probing order.</summary>
    internal static IReadOnlyList<string> DefaultLibraryNames { get; } = PlatformLibraryNames();

    /// <summary>What to install, per platform; <paramref name="reason"/> says what the probe found.</summary>
    internal static string MissingMessage(string reason) =>
        "HEIC output needs libheif with its x265 HEVC encoder, which was not found (" + reason + "). Install it: "
        + "Debian/Ubuntu: sudo apt-get install libheif1 (Debian 13+, Ubuntu 24.04+: also libheif-plugin-x265); "
        + "Fedora: sudo dnf install libheif-freeworld (from RPM Fusion); "
        + "macOS: brew install libheif; "
        + "Windows: vcpkg install libheif[hevc] and put heif.dll on PATH";

    /// <summary>Whether HEIC can be written here; if not, <paramref name="reason"/> says why (for tests and messages).</summary>
    internal static bool IsAvailable(out string reason) => IsAvailable(DefaultLibraryNames, out reason);

    /// <summary>Encodes an already resized 8-bit sRGB (or grey) image, with or without alpha, as HEIC.</summary>
    /// <param name="quality">1–100, handed to the encoder as its lossy quality.</param>
    /// <param name="lossless">Lossless HEVC: 4:4:4 in the RGB (identity) matrix, so decoded pixels equal the input.</param>
    /// <param name="effort">0 to 9, x265's preset from ultrafast to placebo (<see cref="X265Presets"/>); null for the descriptor's default.</param>
    /// <exception cref="ImageConversionException"><see cref="EncoderMissingCode"/> when libheif or its HEVC encoder
    /// is missing; <see cref="DiagnosticCodes.CannotEncode"/> when libheif fails.</exception>
    internal static byte[] Encode(Image image, int quality, bool lossless, int? effort = null) => Encode(image, quality, lossless, DefaultLibraryNames, effort);

    /// <summary>
    /// x265's presets, fastest first: libheif's x265 plugin takes one of these names as its "preset" parameter, and an
    /// effort is an index into them (libvips' heifsave sets aom's speed, which the x265 plugin does not have).
    /// </summary>
    internal static readonly IReadOnlyList<string> X265Presets = new[]
    {
        "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo",
    };

    private static string PresetFor(int? effort) =>
        X265Presets[Math.Max(0, Math.Min(X265Presets.Count - 1, effort ?? FormatDescriptor.Heic.Effort!.Default))];

    private static IReadOnlyList<string> PlatformLibraryNames()
    {
#if NET
        if (OperatingSystem.IsWindows())
        {
            // vcpkg (MSVC) names it heif.dll, MSYS2/MinGW libheif.dll.
            return new[] { "heif.dll", "libheif.dll" };
        }

        if (OperatingSystem.IsMacOS())
        {
            // Hardened processes do not search Homebrew's prefixes, so both are named in full.
            return new[] { "libheif.1.dylib", "/opt/homebrew/lib/libheif.1.dylib", "/usr/local/lib/libheif.1.dylib" };
        }
#endif
        return new[] { "libheif.so.1" };
    }

#if NET
    // heif_compression_format, heif_colorspace, heif_chroma and heif_channel values from heif.h.
    private const int CompressionHevc = 1;
    private const int ColorspaceRgb = 1;
    private const int ChromaInterleavedRgb = 10;
    private const int ChromaInterleavedRgba = 11;
    private const int ChannelInterleaved = 10;
    private const int ErrorEncoding = 9;

    private static readonly ConcurrentDictionary<string, Lazy<LibHeif>> Libraries = new(StringComparer.Ordinal);

    /// <summary>The test hook: as <see cref="IsAvailable(out string)"/>, probing <paramref name="libraryNames"/> instead.</summary>
    internal static bool IsAvailable(IReadOnlyList<string> libraryNames, out string reason)
    {
        LibHeif library = Load(libraryNames);
        reason = library.Problem ?? "";
        return library.Problem == null;
    }

    /// <summary>The test hook: as <see cref="Encode(Image, int, bool)"/>, probing <paramref name="libraryNames"/> instead.</summary>
    internal static byte[] Encode(Image image, int quality, bool lossless, IReadOnlyList<string> libraryNames, int? effort = null)
    {
        LibHeif library = Load(libraryNames);
        if (library.Problem != null)
        {
            throw new ImageConversionException(EncoderMissingCode, MissingMessage(library.Problem));
        }

        Image rgb = ToRgb(image);
        try
        {
            return library.Encode(rgb, quality, lossless, PresetFor(effort));
        }
        finally
        {
            if (!ReferenceEquals(rgb, image))
            {
                rgb.Dispose();
            }
        }
    }

    // Loaded once per list of names for the life of the process: libheif is never unloaded (x265 keeps threads).
    private static LibHeif Load(IReadOnlyList<string> libraryNames) =>
        Libraries.GetOrAdd(string.Join("\n", libraryNames), _ => new Lazy<LibHeif>(() => new LibHeif(libraryNames))).Value;

    /// <summary>8-bit sRGB with 3 or 4 bands: grey (with or without alpha) is expanded, other depths cast.</summary>
    private static Image ToRgb(Image image)
    {
        Image current = image;
        if (current.Bands < 3 || current.Interpretation != Enums.Interpretation.Srgb)
        {
            current = current.Colourspace(Enums.Interpretation.Srgb);
        }

        if (current.Format != Enums.BandFormat.Uchar)
        {
            Image cast = current.Cast(Enums.BandFormat.Uchar);
            if (!ReferenceEquals(current, image))
            {
                current.Dispose();
            }

            current = cast;
        }

        if (current.Bands is not (3 or 4))
        {
            throw new ImageConversionException(DiagnosticCodes.CannotEncode, $"cannot be encoded as heic: {current.Bands} bands (expected RGB or RGBA)");
        }

        return current;
    }

    /// <summary>heif.h's <c>struct heif_error</c>, returned by value by most libheif functions.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct HeifError
    {
        public int Code;
        public int Subcode;
        public IntPtr Message;
    }

    /// <summary>heif.h's <c>struct heif_writer</c> (version 1).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct HeifWriter
    {
        public int WriterApiVersion;
        public IntPtr Write;
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate HeifError InitFn(IntPtr parameters);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr GetVersionFn();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int HaveEncoderForFormatFn(int format);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr AllocFn();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void ReleaseFn(IntPtr pointer);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate HeifError GetEncoderForFormatFn(IntPtr context, int format, out IntPtr encoder);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate HeifError SetIntFn(IntPtr target, int value);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate HeifError SetStringParameterFn(IntPtr encoder, [MarshalAs(UnmanagedType.LPStr)] string name, [MarshalAs(UnmanagedType.LPStr)] string value);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate HeifError ImageCreateFn(int width, int height, int colorspace, int chroma, out IntPtr image);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate HeifError ImageAddPlaneFn(IntPtr image, int channel, int width, int height, int bitDepth);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr ImageGetPlaneFn(IntPtr image, int channel, out int stride);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate HeifError SetNclxFn(IntPtr target, ushort value);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate HeifError ImageSetNclxFn(IntPtr image, IntPtr nclx);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate HeifError EncodeImageFn(IntPtr context, IntPtr image, IntPtr encoder, IntPtr options, IntPtr outHandle);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate HeifError ContextWriteFn(IntPtr context, ref HeifWriter writer, IntPtr userData);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate HeifError WriteCallback(IntPtr context, IntPtr data, UIntPtr size, IntPtr userData);

    /// <summary>One loaded libheif: its entry points, or the reason it cannot encode HEVC.</summary>
    private sealed class LibHeif
    {
        // The message libheif may read from a callback's heif_error; allocated once, never freed.
        private static readonly IntPtr SuccessMessage = Marshal.StringToHGlobalAnsi("Success");
        private static readonly IntPtr WriteFailedMessage = Marshal.StringToHGlobalAnsi("KoalaPic could not take the HEIC bytes");

        private readonly IntPtr handle;

        public LibHeif(IReadOnlyList<string> names)
        {
            string? loadedName = null;
            foreach (string name in names)
            {
                if (NativeLibrary.TryLoad(name, out handle))
                {
                    loadedName = name;
                    break;
                }
            }

            if (loadedName == null)
            {
                Problem = "no " + string.Join(" or ", names) + " on the library search path";
                return;
            }

            try
            {
                version = Marshal.PtrToStringAnsi(Get<GetVersionFn>("heif_get_version")()) ?? "?";

                // libheif 1.14+ loads its encoder plugins (Debian 13's libheif-plugin-x265) only in heif_init; older
                // versions have no heif_init and build x265 in. Never deinitialised: the library stays for the process.
                if (NativeLibrary.TryGetExport(handle, "heif_init", out IntPtr init))
                {
                    HeifError error = Marshal.GetDelegateForFunctionPointer<InitFn>(init)(IntPtr.Zero);
                    if (error.Code != 0)
                    {
                        Problem = $"libheif {version} ({loadedName}) failed to start: {MessageOf(error)}";
                        return;
                    }
                }

                if (Get<HaveEncoderForFormatFn>("heif_have_encoder_for_format")(CompressionHevc) == 0)
                {
                    Problem = $"libheif {version} ({loadedName}) has no HEVC encoder";
                    return;
                }

                contextAlloc = Get<AllocFn>("heif_context_alloc");
                contextFree = Get<ReleaseFn>("heif_context_free");
                getEncoderForFormat = Get<GetEncoderForFormatFn>("heif_context_get_encoder_for_format");
                encoderRelease = Get<ReleaseFn>("heif_encoder_release");
                setLossyQuality = Get<SetIntFn>("heif_encoder_set_lossy_quality");
                setLossless = Get<SetIntFn>("heif_encoder_set_lossless");
                setLoggingLevel = Get<SetIntFn>("heif_encoder_set_logging_level");
                setStringParameter = Get<SetStringParameterFn>("heif_encoder_set_parameter_string");
                imageCreate = Get<ImageCreateFn>("heif_image_create");
                imageAddPlane = Get<ImageAddPlaneFn>("heif_image_add_plane");
                imageGetPlane = Get<ImageGetPlaneFn>("heif_image_get_plane");
                imageRelease = Get<ReleaseFn>("heif_image_release");
                nclxAlloc = Get<AllocFn>("heif_nclx_color_profile_alloc");
                nclxFree = Get<ReleaseFn>("heif_nclx_color_profile_free");
                nclxSetPrimaries = Get<SetNclxFn>("heif_nclx_color_profile_set_color_primaries");
                nclxSetTransfer = Get<SetNclxFn>("heif_nclx_color_profile_set_transfer_characteristics");
                nclxSetMatrix = Get<SetNclxFn>("heif_nclx_color_profile_set_matrix_coefficients");
                imageSetNclx = Get<ImageSetNclxFn>("heif_image_set_nclx_color_profile");
                encodeImage = Get<EncodeImageFn>("heif_context_encode_image");
                contextWrite = Get<ContextWriteFn>("heif_context_write");
            }
            catch (EntryPointNotFoundException ex)
            {
                Problem = $"libheif {version} ({loadedName}) is too old: {ex.Message}";
            }
        }

        /// <summary>Why this libheif cannot write HEIC, or null when it can.</summary>
        public string? Problem { get; }

        private readonly string version = "?";
        private readonly AllocFn contextAlloc = null!;
        private readonly ReleaseFn contextFree = null!;
        private readonly GetEncoderForFormatFn getEncoderForFormat = null!;
        private readonly ReleaseFn encoderRelease = null!;
        private readonly SetIntFn setLossyQuality = null!;
        private readonly SetIntFn setLossless = null!;
        private readonly SetIntFn setLoggingLevel = null!;
        private readonly SetStringParameterFn setStringParameter = null!;
        private readonly ImageCreateFn imageCreate = null!;
        private readonly ImageAddPlaneFn imageAddPlane = null!;
        private readonly ImageGetPlaneFn imageGetPlane = null!;
        private readonly ReleaseFn imageRelease = null!;
        private readonly AllocFn nclxAlloc = null!;
        private readonly ReleaseFn nclxFree = null!;
        private readonly SetNclxFn nclxSetPrimaries = null!;
        private readonly SetNclxFn nclxSetTransfer = null!;
        private readonly SetNclxFn nclxSetMatrix = null!;
        private readonly ImageSetNclxFn imageSetNclx = null!;
        private readonly EncodeImageFn encodeImage = null!;
        private readonly ContextWriteFn contextWrite = null!;

        public byte[] Encode(Image rgb, int quality, bool lossless, string preset)
        {
            byte[] pixels = rgb.WriteToMemory<byte>();
            int width = rgb.Width;
            int height = rgb.Height;
            int bands = rgb.Bands;

            IntPtr context = IntPtr.Zero;
            IntPtr encoder = IntPtr.Zero;
            IntPtr image = IntPtr.Zero;
            IntPtr nclx = IntPtr.Zero;
            try
            {
                context = contextAlloc();
                if (context == IntPtr.Zero)
                {
                    throw Failure("heif_context_alloc returned nothing");
                }

                Check(getEncoderForFormat(context, CompressionHevc, out encoder));

                // x265 writes its banner and statistics to stderr, which would land in the build log.
                Check(setLoggingLevel(encoder, 0));
                if (lossless)
                {
                    Check(setLossless(encoder, 1));
                }
                else
                {
                    Check(setLossyQuality(encoder, quality));
                }

                // Chroma as libvips' heifsave does for AVIF: full resolution at high quality and lossless,
                // 4:2:0 (what phones write) below.
                Check(setStringParameter(encoder, "chroma", lossless || quality >= 90 ? "444" : "420"));
                Check(setStringParameter(encoder, "preset", preset));

                // x265 would start a thread per core for every image; keep to libvips' per-image thread budget
                // (VipsRuntime sets it from the number of images converted at once). The bytes do not depend on it
                // (measured: identical with 1, 2 and 4 threads).
                Check(setStringParameter(encoder, "x265:pools", global::NetVips.NetVips.Concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture)));

                Check(imageCreate(width, height, ColorspaceRgb, bands == 4 ? ChromaInterleavedRgba : ChromaInterleavedRgb, out image));
                Check(imageAddPlane(image, ChannelInterleaved, width, height, 8));
                IntPtr plane = imageGetPlane(image, ChannelInterleaved, out int stride);
                if (plane == IntPtr.Zero)
                {
                    throw Failure("heif_image_get_plane returned nothing");
                }

                int rowBytes = width * bands;
                for (int y = 0; y < height; y++)
                {
                    Marshal.Copy(pixels, y * rowBytes, plane + (y * stride), rowBytes);
                }

                // sRGB primaries and transfer, stated in the file instead of an ICC profile; lossless uses the
                // identity matrix (RGB stored as GBR), since any RGB→YCbCr matrix rounds.
                nclx = nclxAlloc();
                if (nclx == IntPtr.Zero)
                {
                    throw Failure("heif_nclx_color_profile_alloc returned nothing");
                }

                Check(nclxSetPrimaries(nclx, 1));
                Check(nclxSetTransfer(nclx, 13));
                Check(nclxSetMatrix(nclx, (ushort)(lossless ? 0 : 6)));

                // full_range_flag: after a uint8 version and three 4-byte enums (heif.h, struct heif_color_profile_nclx).
                Marshal.WriteByte(nclx, 16, 1);
                Check(imageSetNclx(image, nclx));

                // Default options: alpha kept; no thumbnail, no Exif/XMP, nothing but the image.
                Check(encodeImage(context, image, encoder, IntPtr.Zero, IntPtr.Zero));
                return Write(context);
            }
            finally
            {
                if (nclx != IntPtr.Zero)
                {
                    nclxFree(nclx);
                }

                if (image != IntPtr.Zero)
                {
                    imageRelease(image);
                }

                if (encoder != IntPtr.Zero)
                {
                    encoderRelease(encoder);
                }

                if (context != IntPtr.Zero)
                {
                    contextFree(context);
                }
            }
        }

        /// <summary>The file's bytes, through heif_context_write's callback (no temporary file).</summary>
        private byte[] Write(IntPtr context)
        {
            var output = new MemoryStream();
            WriteCallback callback = (_, data, size, _) =>
            {
                // An exception must not unwind through libheif's frames: report it as a heif_error instead.
                try
                {
                    ulong length = size.ToUInt64();
                    if (length > int.MaxValue)
                    {
                        return new HeifError { Code = ErrorEncoding, Message = WriteFailedMessage };
                    }

                    var chunk = new byte[(int)length];
                    Marshal.Copy(data, chunk, 0, chunk.Length);
                    output.Write(chunk, 0, chunk.Length);
                    return new HeifError { Message = SuccessMessage };
                }
                catch (Exception)
                {
                    return new HeifError { Code = ErrorEncoding, Message = WriteFailedMessage };
                }
            };

            var writer = new HeifWriter { WriterApiVersion = 1, Write = Marshal.GetFunctionPointerForDelegate(callback) };
            Check(contextWrite(context, ref writer, IntPtr.Zero));
            GC.KeepAlive(callback);
            return output.ToArray();
        }

        private T Get<T>(string name)
            where T : Delegate =>
            Marshal.GetDelegateForFunctionPointer<T>(NativeLibrary.GetExport(handle, name));

        private static void Check(HeifError error)
        {
            if (error.Code != 0)
            {
                throw Failure(MessageOf(error));
            }
        }

        private static string MessageOf(HeifError error) =>
            (error.Message == IntPtr.Zero ? null : Marshal.PtrToStringAnsi(error.Message)) ?? $"libheif error {error.Code}.{error.Subcode}";

        private static ImageConversionException Failure(string message) =>
            new(DiagnosticCodes.CannotEncode, "cannot be encoded as heic: libheif: " + message);
    }
#else
    private const string NeedsDotNet = "HEIC output needs KoalaPic on .NET 8 or later (dotnet build); this is .NET Framework";

    internal static bool IsAvailable(IReadOnlyList<string> libraryNames, out string reason)
    {
        reason = NeedsDotNet;
        return false;
    }

    internal static byte[] Encode(Image image, int quality, bool lossless, IReadOnlyList<string> libraryNames, int? effort = null) =>
        throw new ImageConversionException(EncoderMissingCode, MissingMessage(NeedsDotNet));
#endif
}
