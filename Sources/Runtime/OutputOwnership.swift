import Linux
#if canImport(Glibc)
import Glibc
#endif

/// Who owned an `agent run`'s /output before the run handed it to the sandbox, and the
/// host ids the sandbox writes as. Kept in the run's generated bundle
/// (`ContainerRuntime.agentBundles`/ID), so that whoever removes the sandbox gives the
/// files back: the run itself when it ends, or `delete --force` after the run was
/// killed before it could (SIGKILL runs no clean-up). Without it the user's directory
/// would stay owned by ids of the sandbox's user namespace.
public struct OutputOwnership: Equatable, Sendable {
    public static let fileName = "output-ownership"

    public let directory: String
    public let uid: UInt32
    public let gid: UInt32
    /// The host ids the sandbox's user namespace maps: what is in it is given back.
    public let sandboxIDs: ClosedRange<UInt32>

    public init(directory: String, uid: UInt32, gid: UInt32, sandboxIDs: ClosedRange<UInt32>) {
        self.directory = directory
        self.uid = uid
        self.gid = gid
        self.sandboxIDs = sandboxIDs
    }

    /// One line: uid, gid, first and last sandbox id, then the directory (last: it
    /// may hold spaces).
    var text: String {
        "\(uid) \(gid) \(sandboxIDs.lowerBound) \(sandboxIDs.upperBound) \(directory)\n"
    }

    init?(text: String) {
        let line = text.hasSuffix("\n") ? String(text.dropLast()) : text
        let fields = line.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: false)
        guard fields.count == 5, let uid = UInt32(fields[0]), let gid = UInt32(fields[1]),
              let first = UInt32(fields[2]), let last = UInt32(fields[3]), first <= last,
              fields[4].hasPrefix("/") else { return nil }
        self.init(directory: String(fields[4]), uid: uid, gid: gid, sandboxIDs: first...last)
    }

    public func save(inBundle bundle: String) throws {
        try Files.writeAtomically(bundle + "/" + Self.fileName, Array(text.utf8), mode: 0o600)
    }

    public static func load(fromBundle bundle: String) -> OutputOwnership? {
        guard let text = try? Files.readString(bundle + "/" + fileName) else { return nil }
        return OutputOwnership(text: text)
    }

    /// Gives everything the sandbox's ids own under the directory, and the directory
    /// itself, back to its owner. Never follows a symbolic link (lchown, and only real
    /// directories are entered); the sandbox is stopped by now.
    public func restore() {
        give(directory)
        _ = lchown(directory, uid, gid)
    }

    private func give(_ path: String) {
        guard let names = try? Files.list(path) else { return }
        for name in names {
            let p = path + "/" + name
            var st = Glibc.stat()
            guard Glibc.lstat(p, &st) == 0 else { continue }
            if sandboxIDs.contains(st.st_uid) || sandboxIDs.contains(st.st_gid) { _ = lchown(p, uid, gid) }
            if (st.st_mode & S_IFMT) == S_IFDIR { give(p) }
        }
    }
}
