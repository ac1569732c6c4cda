using System.Runtime.InteropServices;

namespace BatchNorm.Harness;

/// <summary>The type of a file system entry, from the C library's stat(2): .NET does not tell a device or FIFO from a regular file.</summary>
internal static unsafe partial class FileType
{
    /// <summary>struct stat is 144 bytes on x86-64 and 128 on arm64 Linux; the buffer is larger than either.</summary>
    private const int StatSize = 256;

    private const uint TypeMask = 0xF000, Regular = 0x8000;

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Stat(string path, byte* buffer);

    /// <summary>
    /// True when <paramref name="path"/> (links followed) is a regular file. Where the layout of struct stat is not
    /// known here (another OS or architecture), or stat fails, false: refusing is the safe answer for a file bnverify
    /// would rewrite.
    /// </summary>
    public static bool IsRegular(string path)
    {
        // x86-64: st_dev, st_ino, st_nlink (8 bytes each), then st_mode; arm64: st_dev, st_ino, then st_mode.
        var architecture = RuntimeInformation.ProcessArchitecture;
        int modeOffset = !OperatingSystem.IsLinux() ? -1 : architecture == Architecture.X64 ? 24 : architecture == Architecture.Arm64 ? 16 : -1;
        if (modeOffset < 0)
            return File.Exists(path) && (File.GetAttributes(path) & (FileAttributes.Device | FileAttributes.Directory)) == 0;
        byte* buffer = stackalloc byte[StatSize];
        if (Stat(path, buffer) != 0)
            return false;
        uint mode = *(uint*)(buffer + modeOffset);
        return (mode & TypeMask) == Regular;
    }
}
