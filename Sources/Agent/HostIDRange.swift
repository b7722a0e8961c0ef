import Linux

/// The host ids a sandbox's user namespace maps to.
///
/// useradd hands the first user 100000-165535 in /etc/subuid and /etc/subgid, and the
/// next users the ranges after it (SUB_UID_MIN 100000 up to SUB_UID_MAX 600100000 by
/// default): a sandbox mapped there would share host ids with that user's rootless
/// containers, and files either one makes would belong to the other. So a policy that
/// does not name `user.hostID` gets a range from a reserved pool far above useradd's,
/// skipping any range an /etc/subuid or /etc/subgid entry covers (an administrator may
/// have handed out ids up there too); a policy that names one is refused when it
/// overlaps an entry. Every sandbox gets the same range as long as the files do not
/// change: isolation between sandboxes comes from their namespaces, as before.
public enum HostIDRange {
    /// The first id of the pool: above useradd's SUB_UID_MAX (600100000).
    public static let poolStart: UInt32 = 1_000_000_000
    /// The pool ends below 4294967295, (uid_t)-1, which no id may be.
    public static let poolEnd: UInt32 = 4_000_000_000
    public static let subuidPath = "/etc/subuid"
    public static let subgidPath = "/etc/subgid"

    /// One line of /etc/subuid or /etc/subgid ("name:first:count").
    public struct Entry: Equatable, Sendable {
        public var file: String
        public var line: Int
        public var ids: ClosedRange<UInt64>
    }

    /// The entries of a subordinate-id file's text; lines that are not
    /// "name:first:count" (comments, blanks) are skipped, as shadow-utils does.
    public static func entries(_ text: String, file: String) -> [Entry] {
        var out: [Entry] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, let first = UInt64(fields[1]), let count = UInt64(fields[2]), count > 0 else { continue }
            out.append(Entry(file: file, line: i + 1, ids: first...(first + count - 1)))
        }
        return out
    }

    /// The entries of this host's /etc/subuid and /etc/subgid (a missing file has none).
    public static func hostEntries() -> [Entry] {
        [subuidPath, subgidPath].flatMap { path -> [Entry] in
            guard let bytes = try? Files.read(path, limit: 4 << 20) else { return [] }
            return entries(String(decoding: bytes, as: UTF8.self), file: path)
        }
    }

    /// The first host id for `user`: its own `hostID`, checked against `entries`, or
    /// the first block of the pool that no entry overlaps.
    public static func resolve(_ user: Policy.UserMapping, entries: [Entry]) throws -> UInt32 {
        let count = UInt64(user.idCount)
        if let first = user.hostID {
            let ids = UInt64(first)...(UInt64(first) + count - 1)
            guard ids.upperBound < UInt64(UInt32.max) else {
                throw PolicyError("user.hostID: host ids \(first)-\(ids.upperBound) run past the largest id (4294967294)")
            }
            if let clash = entries.first(where: { $0.ids.overlaps(ids) }) {
                throw PolicyError("user.hostID: host ids \(first)-\(ids.upperBound) overlap the range on line \(clash.line) of \(clash.file) (a user's subordinate ids); omit user.hostID to get a range from the reserved pool")
            }
            return first
        }
        // Blocks of 65536 (as useradd's) from the pool's start.
        let step = (count + 65_535) / 65_536 * 65_536
        let start = UInt64(poolStart)
        var first = start
        while first + count - 1 <= UInt64(poolEnd) {
            let ids = first...(first + count - 1)
            if let clash = entries.filter({ $0.ids.overlaps(ids) }).map(\.ids.upperBound).max() {
                // Past the clash, then on to the next aligned block.
                first = start + (clash + 1 - start + step - 1) / step * step
                continue
            }
            return UInt32(first)
        }
        throw PolicyError("user.hostID: no block of \(count) host ids between \(poolStart) and \(poolEnd) is clear of /etc/subuid and /etc/subgid; name one with user.hostID")
    }
}
