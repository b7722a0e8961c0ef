import ContainerCore
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// Whose an `agent run`'s /output directory is, which directory exactly (device and
/// inode, checked when it is opened again), and the host ids the sandbox writes as.
/// Kept in the run's generated bundle (`ContainerRuntime.agentBundles`/ID), so that
/// whoever removes the sandbox copies what it wrote back into the directory
/// (OutputZone): the run itself when it ends, or `delete --force` after the run was
/// killed before it could (SIGKILL runs no clean-up).
public struct OutputOwnership: Equatable, Sendable {
    public static let fileName = "output-ownership"

    public let directory: String
    public let uid: UInt32
    public let gid: UInt32
    public let device: UInt64
    public let inode: UInt64
    /// The host ids the sandbox's user namespace maps (all ids without one): a file of
    /// the directory they own, or one anybody may write, the sandbox may replace.
    public let sandboxIDs: ClosedRange<UInt32>
}

extension OutputOwnership {
    /// The record of the held directory `output`.
    public init(of output: HostDirectory, sandboxIDs: ClosedRange<UInt32>) throws {
        let st = try output.status()
        self.init(directory: output.path, uid: st.st_uid, gid: st.st_gid, device: UInt64(st.st_dev),
                  inode: UInt64(st.st_ino), sandboxIDs: sandboxIDs)
    }

    /// One line: uid, gid, device, inode, first and last sandbox id, then the
    /// directory (last: it may hold spaces).
    var text: String {
        "\(uid) \(gid) \(device) \(inode) \(sandboxIDs.lowerBound) \(sandboxIDs.upperBound) \(directory)\n"
    }

    init?(text: String) {
        let line = text.hasSuffix("\n") ? String(text.dropLast()) : text
        let fields = line.split(separator: " ", maxSplits: 6, omittingEmptySubsequences: false)
        guard fields.count == 7, let uid = UInt32(fields[0]), let gid = UInt32(fields[1]),
              let device = UInt64(fields[2]), let inode = UInt64(fields[3]),
              let first = UInt32(fields[4]), let last = UInt32(fields[5]), first <= last,
              fields[6].hasPrefix("/") else { return nil }
        self.init(directory: String(fields[6]), uid: uid, gid: gid, device: device, inode: inode, sandboxIDs: first...last)
    }

    public func save(inBundle bundle: String) throws {
        try Files.writeAtomically(bundle + "/" + Self.fileName, Array(text.utf8), mode: 0o600)
    }

    public static func load(fromBundle bundle: String) -> OutputOwnership? {
        guard let text = try? Files.readString(bundle + "/" + fileName) else { return nil }
        return OutputOwnership(text: text)
    }

    /// The directory opened again by path, without following any symlink, and only if
    /// it is still the same directory (device and inode): a directory renamed or
    /// replaced since is not written to.
    public func reopen() -> HostDirectory? {
        guard let dir = try? HostDirectory.open(directory), let st = try? dir.status(),
              UInt64(st.st_dev) == device, UInt64(st.st_ino) == inode else { return nil }
        return dir
    }

    /// Whether the sandbox may replace the host's entry `st` at a name it wrote: it
    /// could write it through /output (others may write it, or its ids own it).
    func sandboxMayReplace(_ st: Glibc.stat) -> Bool {
        (st.st_mode & S_IFMT) != S_IFDIR && sandboxMayWrite(st)
    }

    /// Whether the sandbox could write the host's entry `st` (its ids own it, or
    /// anybody may write it): seen from the sandbox, the host's ids are unmapped.
    func sandboxMayWrite(_ st: Glibc.stat) -> Bool {
        st.st_mode & 0o002 != 0 || sandboxIDs.contains(st.st_uid)
    }
}
