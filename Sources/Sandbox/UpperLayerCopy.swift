import ContainerCore
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// A sandbox's writes (its ephemeral root's upper layer) copied out into a snapshot,
/// and copied into a new sandbox's upper layer before its overlay is mounted: what
/// lets a restored sandbox find the files its memory refers to.
///
/// The copy is `cp -a` (GNU coreutils): owners (the sandbox root's host ids), modes,
/// times, hard links, symlinks, and overlayfs's own marks, which are what a copy must
/// keep for the merged view to come back the same: a whiteout is a 0/0 character
/// device, an opaque directory a `trusted.overlay.opaque` extended attribute (root
/// copies trusted.* attributes). A hand-written walk would have to get each right.
public enum UpperLayerCopy {
    /// Copies the contents of `source` into the directory `destination` (made if
    /// missing, 0700), keeping everything above; a failure throws cp's first line.
    public static func copy(from source: String, into destination: String) throws {
        guard Files.isDirectory(source) else { throw RuntimeError("\(source): no upper layer there") }
        if !Files.isDirectory(destination) {
            try syscall("mkdir", destination) { Glibc.mkdir(destination, 0o700) }
        }
        try run("cp", ["-a", "--no-target-directory", source + "/.", destination])
    }

    /// Refuses, before anything is saved, a destination whose file system has less
    /// room than the upper layer's tmpfs holds (plus 1 MiB): a copy that then failed
    /// half way would cost the sandbox (runsc's checkpoint has stopped it by then).
    public static func checkRoom(for upper: String, in destination: String) throws {
        var source = statvfs(), target = statvfs()
        guard statvfs(upper, &source) == 0 else { return }
        // The nearest directory that exists: the destination is made later.
        var dir = destination
        while !Files.isDirectory(dir), let slash = dir.lastIndex(of: "/"), slash != dir.startIndex { dir = String(dir[..<slash]) }
        guard statvfs(Files.isDirectory(dir) ? dir : "/", &target) == 0 else { return }
        let used = UInt64(source.f_blocks - source.f_bfree) * UInt64(source.f_frsize)
        let free = UInt64(target.f_bavail) * UInt64(target.f_frsize)
        guard free >= used + (1 << 20) else {
            throw RuntimeError("\(destination): \(free) bytes free, and the sandbox's upper layer takes \(used)")
        }
    }

    private static func run(_ command: String, _ args: [String]) throws {
        guard let path = Processes.lookPath(command, env: HelperProcess.searchPath) else {
            throw RuntimeError("the upper layer copy needs \(command) (Debian: coreutils)")
        }
        let (status, _, line) = try HelperProcess.run(path, [command] + args)
        guard status == .exited(0) else {
            throw RuntimeError("copying the upper layer \(args.dropLast().last ?? "") to \(args.last ?? ""): \(line ?? "exit status \(status.shellCode)")")
        }
    }
}
