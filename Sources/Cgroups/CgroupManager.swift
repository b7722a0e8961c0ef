import Linux
#if canImport(Glibc)
import Glibc
#endif

public struct CgroupError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// The cgroup file involved, when one is.
    public var path: String? = nil
    /// The errno of the failed call, when one failed.
    public var errno: Int32? = nil
    public var description: String { message }

    public init(message: String, path: String? = nil, errno: Int32? = nil) {
        self.message = message
        self.path = path
        self.errno = errno
    }
}

/// Places a container's processes in its cgroups and removes them afterwards.
///
/// One implementation per hierarchy kind would differ only in which directories they
/// touch, so a single manager works over the layout's hierarchies: v1 (one directory
/// per hierarchy), v2 (one directory in the unified tree) and hybrid (both, as runc
/// does).
public struct CgroupManager: Sendable {
    public let layout: CgroupLayout
    /// The cgroup path, as in the spec's `cgroupsPath` after resolution: absolute
    /// within each hierarchy ("/default/ID").
    public let cgroupPath: String
    /// The directories this container's cgroup occupies, one per hierarchy.
    public let paths: [String]

    /// Resolves `cgroupsPath` the way runc does: an absolute path is taken from each
    /// hierarchy's root; a relative one, or none (then the container id), from the
    /// caller's own cgroup in that hierarchy.
    ///
    /// With `systemdDriver` (--systemd-cgroup) the path is "slice:prefix:name", placed
    /// where systemd would place the unit (SystemdCgroupPath).
    public init(layout: CgroupLayout, cgroupsPath: String?, id: String, systemdDriver: Bool = false,
                callerMembership: CgroupPathTable = CgroupMembership.of()) throws {
        self.layout = layout
        try Self.validate(cgroupsPath: cgroupsPath, systemdDriver: systemdDriver)
        let given = systemdDriver ? try SystemdCgroupPath.resolve(cgroupsPath, id: id) : cgroupsPath ?? ""
        var paths: [String] = []
        var resolvedPath = ""
        for h in layout.hierarchies {
            let relative: String
            if given.hasPrefix("/") {
                relative = given
            } else {
                let own = callerMembership[h.procKey] ?? "/"
                let leaf = given.isEmpty ? id : given
                relative = (own == "/" ? "" : own) + "/" + leaf
            }
            // The mount shows `mountRoot` as its root: strip it (nested containers).
            var inMount = relative
            if h.mountRoot != "/", inMount.hasPrefix(h.mountRoot) { inMount = String(inMount.dropFirst(h.mountRoot.count)) }
            // (No "//" between them when inMount has its own "/": the path is then
            // usually normal already, which PathText.normalize checks in one pass.)
            paths.append(PathText.normalize(inMount.hasPrefix("/") ? h.mountPoint + inMount : h.mountPoint + "/" + inMount))
            if resolvedPath.isEmpty { resolvedPath = PathText.normalize(relative) }
        }
        self.cgroupPath = resolvedPath
        self.paths = paths
    }

    /// The checks on `cgroupsPath` that need no host access, so they can run before
    /// anything is created.
    public static func validate(cgroupsPath: String?, systemdDriver: Bool = false) throws {
        let given = cgroupsPath ?? ""
        if systemdDriver {
            _ = try SystemdCgroupPath.resolve(cgroupsPath, id: "id")
            return
        }
        if given.contains(":") {
            throw CgroupError(message: "linux.cgroupsPath: \"\(given)\" is a systemd \"slice:prefix:name\" path; pass --systemd-cgroup, or give a cgroupfs path")
        }
        if given.split(separator: "/").contains("..") {
            throw CgroupError(message: "linux.cgroupsPath: \"\(given)\" must not contain \"..\"")
        }
    }

    /// A manager for directories already resolved (from a container's record).
    public init(paths: [String], layout: CgroupLayout = CgroupLayout(hierarchies: [])) {
        self.layout = layout
        self.cgroupPath = ""
        self.paths = paths
    }

    /// Creates the directories and moves `pid` (and so its future children) in.
    public func apply(pid: Int32) throws {
        try makeDirectories()
        try join(pid: pid)
    }

    /// Creates the container's directories (cheap: a mkdir each), ready to be joined;
    /// only those of hierarchies of `version` when one is given. Those in `fresh`
    /// (CgroupClaim.check found them absent) must be made here: one that appeared
    /// since is someone else's, and refused.
    public func makeDirectories(version: CgroupHierarchy.Version? = nil, fresh: [String] = []) throws {
        for (index, path) in paths.enumerated() {
            let h = index < layout.hierarchies.count ? layout.hierarchies[index] : nil
            if let version, let h, h.version != version { continue }
            do {
                if fresh.contains(path) {
                    try CgroupClaim.makeExclusively(path)
                } else {
                    try Files.makeDirectories(path)
                }
                if let h, h.controllers.contains("cpuset") { try Self.inheritCpuset(down: path, from: h.mountPoint) }
                if let h, h.version == .v2 { Self.enableControllers(down: path, from: h.mountPoint) }
            } catch {
                throw CgroupError(message: "cgroup \(path): \(error)")
            }
        }
    }

    /// The container's directory in the v2 hierarchy (the unified one of a hybrid
    /// host, the only one of a v2 host), if the layout has one.
    public var v2Directory: String? {
        zip(layout.hierarchies, paths).first { $0.0.version == .v2 }?.1
    }

    /// Moves `pid` into every directory (only those of `version`, when given). The
    /// first move waits for an RCU grace period in the kernel
    /// (cgroup_threadgroup_rwsem): milliseconds, worth avoiding (see joinSelf).
    public func join(pid: Int32, version: CgroupHierarchy.Version? = nil) throws {
        for (index, path) in paths.enumerated() {
            if let version, index < layout.hierarchies.count, layout.hierarchies[index].version != version { continue }
            do {
                try Files.write(path + "/cgroup.procs", String(pid), flags: O_WRONLY)
            } catch {
                throw CgroupError(message: "cgroup \(path): \(error)")
            }
        }
    }

    /// Moves the calling thread into each of `directories` (v1 hierarchies) by writing
    /// "0" to their `tasks` files, opened beforehand. A v1 move of the caller's own
    /// thread is the one move the kernel makes without cgroup_threadgroup_rwsem (no
    /// other thread of the group can fork or exit under it), so it skips the RCU grace
    /// period a cgroup.procs write of a pid waits for. For a single-threaded process
    /// that is the whole process.
    public static func openTasksFiles(in directories: [String]) throws -> [FileDescriptor] {
        do {
            // On a failure the files opened so far close as map's partial result goes.
            return try directories.map { try FileDescriptor.open($0 + "/tasks", O_WRONLY) }
        } catch {
            throw CgroupError(message: "cgroup: \(error)")
        }
    }

    /// See openTasksFiles; closes the files.
    public static func joinSelf(through tasksFiles: [FileDescriptor], directories: [String]) throws {
        defer { for f in tasksFiles { f.close() } }
        for (file, dir) in zip(tasksFiles, directories) {
            do {
                try file.write("0")
            } catch {
                throw CgroupError(message: "cgroup \(dir): \(error)")
            }
        }
    }

    /// The container's directory in each hierarchy, by /proc/PID/cgroup key.
    public var pathsByHierarchy: CgroupPathTable {
        var result = CgroupPathTable()
        for (h, path) in zip(layout.hierarchies, paths) { result[h.procKey] = path }
        return result
    }

    /// A new v1 cpuset starts with no cpus and no mems, and refuses processes until
    /// both are set: copy them from the parent at each level, top down (runc does too).
    static func inheritCpuset(down path: String, from mountPoint: String) throws {
        var current = mountPoint
        for component in path.dropFirst(mountPoint.count).split(separator: "/") {
            let parent = current
            current += "/" + String(component)
            for file in ["cpuset.cpus", "cpuset.mems"] {
                let mine = (try? Files.readString(current + "/" + file)) ?? ""
                if mine.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    let inherited = try Files.readString(parent + "/" + file)
                    try Files.write(current + "/" + file, inherited.trimmingCharacters(in: .whitespacesAndNewlines), flags: O_WRONLY)
                }
            }
        }
    }

    /// A v2 controller works in a cgroup only when every ancestor lists it in its
    /// cgroup.subtree_control: enable what each level has, top down, as runc's
    /// fs2 CreateCgroupPath does. Best effort: a level with processes of its own may
    /// refuse (the no-internal-processes rule), and then the resource write that
    /// needs the controller fails with its file named.
    static func enableControllers(down path: String, from mountPoint: String) {
        var current = mountPoint
        for component in path.dropFirst(mountPoint.count).split(separator: "/") {
            let available = Self.words(in: (try? Files.readString(current + "/cgroup.controllers")) ?? "")
            // An array, not a Set: a handful of names, and this runs before the fork.
            let enabled = Self.words(in: (try? Files.readString(current + "/cgroup.subtree_control")) ?? "")
            let missing = available.filter { !enabled.contains($0) }
            if !missing.isEmpty {
                let all = missing.map { "+" + $0 }.joined(separator: " ")
                if (try? Files.write(current + "/cgroup.subtree_control", all, flags: O_WRONLY)) == nil {
                    for c in missing { try? Files.write(current + "/cgroup.subtree_control", "+" + c, flags: O_WRONLY) }
                }
            }
            // Not `"/" + component`: that generic append (String + Substring) costs
            // ~190k instructions the first time, in the runtime's witness lookups.
            current += "/"
            current += String(component)
        }
    }

    static func words(in text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    }

    /// The container's directory in hierarchy `h` (paths are matched by mount point,
    /// so a manager made from a record's paths works too).
    func directory(in h: CgroupHierarchy) -> String? {
        if let i = layout.hierarchies.firstIndex(of: h), i < paths.count,
           paths[i] == h.mountPoint || paths[i].hasPrefix(h.mountPoint + "/") { return paths[i] }
        return paths.first { $0 == h.mountPoint || $0.hasPrefix(h.mountPoint + "/") }
    }

    /// Where `controller` lives for this container: the v1 hierarchy carrying it, else
    /// the unified hierarchy when the controller is there (always on a pure v2 host;
    /// in hybrid mode only what the unified root's cgroup.controllers lists, e.g.
    /// hugetlb on this machine kind).
    func directory(for controller: String) -> (path: String, version: CgroupHierarchy.Version)? {
        for h in layout.v1 where h.controllers.contains(controller) {
            if let dir = directory(in: h) { return (dir, .v1) }
        }
        guard let unified = layout.unified, let dir = directory(in: unified) else { return nil }
        if layout.v1.isEmpty { return (dir, .v2) }
        // The controllers the unified hierarchy's root offers.
        let offered = Self.words(in: (try? Files.readString(unified.mountPoint + "/cgroup.controllers")) ?? "")
        return offered.contains(controller) ? (dir, .v2) : nil
    }

    /// A manager for a container's recorded directories on this host: the host layout
    /// tells which hierarchy each directory belongs to (pause, resume, events, update).
    public init(recordedPaths: [String], layout: CgroupLayout = .host()) {
        self.init(paths: recordedPaths, layout: layout)
    }

    /// Removes the directories; a cgroup under one of them makes that fail (see
    /// destroyTree for a container's end).
    public func destroy() throws {
        for path in paths.reversed() {
            try Self.removeDirectory(path)
        }
    }

    /// Removes the directories and the cgroups made under them, deepest first
    /// (CgroupManager+Subtree), as runc's RemovePath: what delete does to a container
    /// whose processes made sub-cgroups. Not for a create that failed: a cgroupsPath
    /// naming an existing cgroup must not lose the cgroups under it.
    public func destroyTree() throws {
        for path in paths.reversed() {
            try removeDescendants(of: path)
            try Self.removeDirectory(path)
        }
    }
}
