import Linux

/// Cgroup paths by hierarchy key (/proc/PID/cgroup's middle field: "cpu,cpuacct",
/// "name=systemd", "" for v2): a process's membership, or a container's directories.
///
/// A short list searched in order, not a `[String: String]`: the first String-keyed
/// dictionary a process makes has the Swift runtime look up `String: Hashable` by
/// scanning every protocol conformance record of this Foundation-sized static binary
/// (~250k instructions, callgrind), and these tables are made before the container's
/// init is forked and again inside it. There are never more than a dozen keys.
public struct CgroupPathTable: Sendable, Equatable, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var path: String
    }

    public private(set) var entries: [Entry] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        for (key, path) in elements { self[key] = path }
    }

    public subscript(key: String) -> String? {
        get {
            for entry in entries where entry.key == key { return entry.path }
            return nil
        }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].path = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append(Entry(key: key, path: newValue))
            }
        }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// Equal when the same keys map to the same paths, in any order (as dictionaries).
    public static func == (a: CgroupPathTable, b: CgroupPathTable) -> Bool {
        a.count == b.count && a.entries.allSatisfy { b[$0.key] == $0.path }
    }

    public var description: String {
        "[" + entries.map { "\"\($0.key)\": \"\($0.path)\"" }.joinedBy(", ") + "]"
    }
}
