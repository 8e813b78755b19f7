using System.Buffers.Binary;

namespace KoalaPic.Build.Tasks.Tests;

/// <summary>
/// What a native library file is built for, read from its header: a Windows DLL (PE), a macOS dylib (Mach-O, thin or
/// universal) or a Linux shared object (ELF), and its CPU architectures as RIDs name them (x64, x86, arm64, arm).
/// Proves that a file found for a host is one that host can load, without loading it.
/// </summary>
internal static class NativeBinary
{
    private static readonly byte[] Elf = { 0x7F, (byte)'E', (byte)'L', (byte)'F' };

    public static (KoalaPic.Build.Engine.NativeOs Os, IReadOnlyList<string> Architectures) Read(string path)
    {
        byte[] header = new byte[4096];
        using (FileStream file = File.OpenRead(path))
        {
            header = header[..file.Read(header, 0, header.Length)];
        }

        if (header.Length > 0x40 && header[0] == 'M' && header[1] == 'Z')
        {
            int pe = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(0x3C));
            if (header.AsSpan(pe, 4).SequenceEqual("PE\0\0"u8))
            {
                ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(pe + 4));
                return (KoalaPic.Build.Engine.NativeOs.Windows, new[] { machine switch { 0x8664 => "x64", 0x14C => "x86", 0xAA64 => "arm64", 0x1C4 => "arm", _ => $"pe-0x{machine:x}" } });
            }
        }

        if (header.Length > 0x14 && header.AsSpan(0, 4).SequenceEqual(Elf))
        {
            ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(0x12));
            return (KoalaPic.Build.Engine.NativeOs.Linux, new[] { machine switch { 62 => "x64", 3 => "x86", 183 => "arm64", 40 => "arm", _ => $"elf-{machine}" } });
        }

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (magic == 0xFEEDFACF)
        {
            return (KoalaPic.Build.Engine.NativeOs.MacOS, new[] { MachO(BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4))) });
        }

        if (BinaryPrimitives.ReadUInt32BigEndian(header) == 0xCAFEBABE)
        {
            int count = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
            return (KoalaPic.Build.Engine.NativeOs.MacOS, Enumerable.Range(0, count).Select(i => MachO(BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(8 + (20 * i))))).ToArray());
        }

        throw new InvalidDataException($"'{path}' is no PE, ELF or Mach-O file.");
    }

    private static string MachO(int cpuType) => cpuType switch
    {
        0x01000007 => "x64",
        0x0100000C => "arm64",
        _ => $"macho-0x{cpuType:x}",
    };
}
