import Linux

/// One mounted cgroup hierarchy of the host: a v1 hierarchy with its controllers, or
/// the v2 unified hierarchy.
public struct CgroupHierarchy: Sendable, Equatable {
    public enum Version: Sendable, Equatable { case v1, v2 }

    public let version: Version
    /// Where it is mounted ("/sys/fs/cgroup/cpu", "/sys/fs/cgroup/unified").
    public let mountPoint: String
    /// The path inside the hierarchy that the mount shows as its root ("/" normally).
    public let mountRoot: String
    /// v1: the controllers and names it carries ("cpu", "name=systemd"); empty for v2.
    public let controllers: [String]

    public init(version: Version, mountPoint: String, mountRoot: String = "/", controllers: [String]) {
        self.version = version
        self.mountPoint = mountPoint
        self.mountRoot = mountRoot
        self.controllers = controllers
    }

    /// The key of this hierarchy in /proc/PID/cgroup: "cpu", "name=systemd", or "" for v2.
    /// The controllers as /proc/self/cgroup lists them ("cpu,cpuacct"); a loop, not
    /// joined(separator:), whose first use costs a cold `run` ~200K instructions.
    public var procKey: String {
        var key = ""
        for c in controllers {
            if !key.isEmpty { key += "," }
            key += c
        }
        return key
    }

    /// Directory name under /sys/fs/cgroup ("cpu", "systemd", "unified").
    public var name: String {
        // The last component, found on the bytes (no Character-wise split: the init
        // asks for it once per hierarchy).
        guard let slash = mountPoint.utf8.lastIndex(of: UInt8(ascii: "/")) else { return mountPoint }
        return String(mountPoint[mountPoint.utf8.index(after: slash)...])
    }
}

/// What the host has: v1 hierarchies, a unified hierarchy, or both (hybrid).
public struct CgroupLayout: Sendable, Equatable {
    public var hierarchies: [CgroupHierarchy]

    public init(hierarchies: [CgroupHierarchy]) { self.hierarchies = hierarchies }

    public var v1: [CgroupHierarchy] { hierarchies.filter { $0.version == .v1 } }
    public var unified: CgroupHierarchy? { hierarchies.first { $0.version == .v2 } }

    public enum Mode: String, Sendable { case v1, v2, hybrid, none }

    /// Hybrid is v1 controllers plus a cgroup2 mount (as on this machine, where the
    /// unified mount holds only hugetlb); runc places processes in both.
    public var mode: Mode {
        switch (v1.isEmpty, unified == nil) {
        case (true, true): return .none
        case (true, false): return .v2
        case (false, true): return .v1
        case (false, false): return .hybrid
        }
    }

    /// v1 controllers a v1 hierarchy may carry (named hierarchies are "name=X").
    /// An array: a `Set<String>` costs a scan of the binary's conformance records for
    /// `String: Hashable` on the first use, on every container start.
    static let v1Controllers: [String] = [
        "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "blkio",
        "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc",
    ]

    /// Reads the layout from a mountinfo text (/proc/self/mountinfo).
    /// `onlyV2`: just the v2 hierarchy, for the one directory the container's init is
    /// born in (everything else is worked out after the fork, off the init's path).
    public static func parse(mountinfo text: String, onlyV2: Bool = false) -> CgroupLayout {
        var result: [CgroupHierarchy] = []
        // Byte-level: this runs on every container start, and Substring splitting
        // cost ~1.4M instructions for a 20-line mountinfo (callgrind). Fields are
        // space-separated; " - " separates the optional fields from fstype, source
        // and super options.
        let bytes = Array(text.utf8)
        ByteLines.forEach(in: bytes) { range in
            let line = bytes[range]
            if mentions(onlyV2 ? cgroup2Marker : cgroupMarker, in: line), let hierarchy = parseLine(line) {
                let duplicate = result.contains {
                    hierarchy.version == .v2 ? $0.version == .v2 : $0.controllers == hierarchy.controllers
                }
                if !duplicate { result.append(hierarchy) }
            }
        }
        return CgroupLayout(hierarchies: result)
    }

    private static let cgroupMarker = Array(" - cgroup".utf8)
    private static let cgroup2Marker = Array(" - cgroup2 ".utf8)

    /// A cheap test before the field split: most mountinfo lines are not cgroups.
    private static func mentions(_ marker: [UInt8], in line: ArraySlice<UInt8>) -> Bool {
        guard line.count >= marker.count else { return false }
        var i = line.startIndex
        let last = line.endIndex - marker.count
        while i <= last {
            if line[i] == marker[0] {
                var k = 1
                while k < marker.count && line[i + k] == marker[k] { k += 1 }
                if k == marker.count { return true }
            }
            i += 1
        }
        return false
    }

    private static func parseLine(_ line: ArraySlice<UInt8>) -> CgroupHierarchy? {
        // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
        // One pass over the fields, keeping the ranges of the five it needs (no array
        // of fields: this runs for every cgroup line of every create).
        let space = UInt8(ascii: " ")
        var i = line.startIndex
        var index = 0, afterDash = -1
        var root = i..<i, mountPoint = i..<i, fstype = i..<i, superOptions = i..<i
        while i < line.endIndex {
            while i < line.endIndex && line[i] == space { i += 1 }
            if i == line.endIndex { break }
            var j = i
            while j < line.endIndex && line[j] != space { j += 1 }
            if afterDash < 0 {
                if j - i == 1 && line[i] == UInt8(ascii: "-") {
                    // The first "-" field ends the optional fields; before field 6 the
                    // line is not one mountinfo writes.
                    guard index >= 6 else { return nil }
                    afterDash = 0
                } else if index == 3 {
                    root = i..<j
                } else if index == 4 {
                    mountPoint = i..<j
                }
                index += 1
            } else {
                if afterDash == 0 { fstype = i..<j } else if afterDash == 2 { superOptions = i..<j }
                afterDash += 1
            }
            i = j
        }
        guard afterDash >= 1 else { return nil }
        let isV2 = line[fstype].elementsEqual(cgroup2Name)
        guard isV2 || line[fstype].elementsEqual(cgroupName) else { return nil }
        let rootText = String(decoding: line[root], as: UTF8.self)
        let mountText = String(decoding: line[mountPoint], as: UTF8.self)
        if isV2 {
            return CgroupHierarchy(version: .v2, mountPoint: mountText, mountRoot: rootText, controllers: [])
        }
        guard afterDash >= 3 else { return nil }
        var controllers: [String] = []
        var start = superOptions.lowerBound
        for k in superOptions.lowerBound...superOptions.upperBound where k == superOptions.upperBound || line[k] == UInt8(ascii: ",") {
            if k > start {
                let option = String(decoding: line[start..<k], as: UTF8.self)
                if v1Controllers.contains(option) || option.hasPrefix("name=") { controllers.append(option) }
            }
            start = k + 1
        }
        guard !controllers.isEmpty else { return nil }
        return CgroupHierarchy(version: .v1, mountPoint: mountText, mountRoot: rootText, controllers: controllers)
    }

    private static let cgroupName = Array("cgroup".utf8)
    private static let cgroup2Name = Array("cgroup2".utf8)

    /// The calling host's layout (`onlyV2`: see parse).
    public static func host(onlyV2: Bool = false) -> CgroupLayout {
        parse(mountinfo: hostMountinfo(), onlyV2: onlyV2)
    }

    /// /proc/self/mountinfo ("" if unreadable), for a caller that parses it more than
    /// once: the kernel's rendering of each mount is ~40 us of a create here.
    public static func hostMountinfo() -> String {
        (try? Files.readString("/proc/self/mountinfo")) ?? ""
    }
}

/// A process's cgroup membership, from /proc/PID/cgroup: hierarchy key -> path.
public enum CgroupMembership {
    /// "ID:KEY:PATH" lines. Byte-level, as CgroupLayout.parse: this runs before the
    /// fork of every container, and the generic splits cost 150 K instructions for ten
    /// lines.
    public static func parse(_ text: String) -> CgroupPathTable {
        var result = CgroupPathTable()
        let bytes = Array(text.utf8)
        var colons: [Int] = []
        colons.reserveCapacity(2)
        ByteLines.forEach(in: bytes) { line in
            // The first two colons end the id and the key; the path is the rest.
            ByteLines.separators(UInt8(ascii: ":"), in: bytes, line, limit: 2, into: &colons)
            guard colons.count == 2 else { return }
            let key = String(decoding: bytes[(colons[0] + 1)..<colons[1]], as: UTF8.self)
            result[key] = String(decoding: bytes[(colons[1] + 1)..<line.upperBound], as: UTF8.self)
        }
        return result
    }

    public static func of(pid: String = "self") -> CgroupPathTable {
        parse((try? Files.readString("/proc/\(pid)/cgroup")) ?? "")
    }
}

/// The container's cgroups as the init needs them for its cgroup mount: each host
/// hierarchy with the container's directory in it. Sent over the sync channel as text
/// lines (version, key, mount point, mount root, container path, tab-separated).
public struct CgroupPlacement: Sendable, Equatable {
    public var layout: CgroupLayout
    /// /proc/PID/cgroup key -> the container's directory in that hierarchy.
    public var paths: CgroupPathTable

    public init(layout: CgroupLayout = CgroupLayout(hierarchies: []), paths: CgroupPathTable = [:]) {
        self.layout = layout
        self.paths = paths
    }

    public init(_ manager: CgroupManager) {
        self.init(layout: manager.layout, paths: manager.pathsByHierarchy)
    }

    /// The container's directory in each v1 hierarchy, in the layout's order: the
    /// `tasks` files an init joins through (CgroupManager.joinSelf), whether it opens
    /// them or the runtime sends them, in this order.
    public var v1Directories: [String] {
        layout.hierarchies.filter { $0.version == .v1 }.compactMap { paths[$0.procKey] }
    }

    public var encoded: String {
        // Into one byte buffer: the chain of `+` it was made a String per operand (40K
        // instructions a create, with the runtime waiting to send it).
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024)
        let tab = UInt8(ascii: "\t")
        for h in layout.hierarchies {
            if !bytes.isEmpty { bytes.append(UInt8(ascii: "\n")) }
            let key = h.procKey
            bytes.append(h.version == .v1 ? UInt8(ascii: "1") : UInt8(ascii: "2"))
            bytes.append(tab)
            bytes.append(contentsOf: key.utf8)
            bytes.append(tab)
            bytes.append(contentsOf: h.mountPoint.utf8)
            bytes.append(tab)
            bytes.append(contentsOf: h.mountRoot.utf8)
            bytes.append(tab)
            bytes.append(contentsOf: (paths[key] ?? "").utf8)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public init(decoding text: String) {
        var hierarchies: [CgroupHierarchy] = []
        var paths = CgroupPathTable()
        // Byte-level, as CgroupLayout.parse: the init decodes this while it mounts,
        // and splitting the String by Characters cost 14% of its user time (perf).
        let bytes = Array(text.utf8)
        var tabs: [Int] = []
        tabs.reserveCapacity(5)
        func field(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        ByteLines.forEach(in: bytes) { line in
            // Five fields: version, key, mount point, mount root, path.
            ByteLines.separators(UInt8(ascii: "\t"), in: bytes, line, limit: 5, into: &tabs)
            guard tabs.count == 4 else { return }
            var controllers: [String] = []
            var start = tabs[0] + 1
            for i in (tabs[0] + 1)...tabs[1] where i == tabs[1] || bytes[i] == UInt8(ascii: ",") {
                if tabs[1] > tabs[0] + 1 { controllers.append(field(start..<i)) }
                start = i + 1
            }
            let key = field((tabs[0] + 1)..<tabs[1])
            let v1 = tabs[0] == line.lowerBound + 1 && bytes[line.lowerBound] == UInt8(ascii: "1")
            hierarchies.append(CgroupHierarchy(version: v1 ? .v1 : .v2, mountPoint: field((tabs[1] + 1)..<tabs[2]),
                                               mountRoot: field((tabs[2] + 1)..<tabs[3]), controllers: controllers))
            if line.upperBound > tabs[3] + 1 { paths[key] = field((tabs[3] + 1)..<line.upperBound) }
        }
        self.init(layout: CgroupLayout(hierarchies: hierarchies), paths: paths)
    }
}
