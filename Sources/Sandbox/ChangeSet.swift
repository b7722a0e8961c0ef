import ContainerCore
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// What a sandbox changed in its root filesystem, read from the overlay's upper layer
/// before it goes: created, modified and deleted paths with sizes.
public struct ChangeSet: Sendable, Equatable {
    public enum Kind: String, Sendable { case created, modified, deleted }

    public struct Entry: Sendable, Equatable {
        /// Absolute path inside the container ("/etc/hosts").
        public var path: String
        public var kind: Kind
        /// Bytes of the new content (0 for deletions and directories).
        public var size: UInt64

        public init(path: String, kind: Kind, size: UInt64) {
            self.path = path
            self.kind = kind
            self.size = size
        }
    }

    public var entries: [Entry] = []

    public init(entries: [Entry] = []) { self.entries = entries }

    public func count(_ kind: Kind) -> Int { entries.filter { $0.kind == kind }.count }
    /// Bytes written into the upper layer by created and modified files.
    public var bytes: UInt64 { entries.reduce(0) { $0 + $1.size } }

    /// Walks `upper` (never following links) and classifies each entry against the
    /// image root `lower`: an overlay whiteout (a 0:0 character device) is a deletion;
    /// a file or link that the image has is a modification, one it lacks a creation;
    /// a directory is reported only when the image lacks it (created) or the sandbox
    /// replaced it (an opaque directory: modified). Entries are sorted by path.
    public static func compute(upper: String, lower: String) -> ChangeSet {
        var set = ChangeSet()
        walk(upper: upper, lower: lower, relative: "", into: &set)
        set.entries.sort { $0.path < $1.path }
        return set
    }

    private static func walk(upper: String, lower: String, relative: String, into set: inout ChangeSet) {
        guard let names = try? Files.list(upper + relative) else { return }
        for name in names {
            let rel = relative + "/" + name
            var st = Glibc.stat()
            guard Glibc.lstat(upper + rel, &st) == 0 else { continue }
            var inImage = Glibc.stat()
            let imageHas = Glibc.lstat(lower + rel, &inImage) == 0
            switch st.st_mode & S_IFMT {
            case S_IFCHR where st.st_rdev == 0:
                set.entries.append(Entry(path: rel, kind: .deleted, size: 0))
            case S_IFDIR:
                let imageHasDir = imageHas && (inImage.st_mode & S_IFMT) == S_IFDIR
                if !imageHasDir {
                    set.entries.append(Entry(path: rel, kind: imageHas ? .modified : .created, size: 0))
                } else if isOpaque(upper + rel) {
                    set.entries.append(Entry(path: rel, kind: .modified, size: 0))
                }
                walk(upper: upper, lower: lower, relative: rel, into: &set)
            default:
                set.entries.append(Entry(path: rel, kind: imageHas ? .modified : .created, size: UInt64(max(0, st.st_size))))
            }
        }
    }

    private static func isOpaque(_ path: String) -> Bool {
        Files.extendedAttribute(path, "trusted.overlay.opaque") == [UInt8(ascii: "y")]
    }

    /// One line per entry, as `agent run --summary text` prints them.
    public var lines: [String] {
        entries.map { "\($0.kind.rawValue) \($0.path)" + ($0.kind == .deleted ? "" : " (\($0.size) bytes)") }
    }
}
