import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The check create makes before it places a process in the container's cgroups: a
/// frozen cgroup (or one under a frozen ancestor) would freeze the init as it joins,
/// and create would wait for it for ever.
extension CgroupManager {
    /// The first frozen cgroup on the container's paths, as "file: why", or nil.
    ///
    /// v1 freezer: the deepest existing directory on the container's path; its
    /// freezer.state reads FROZEN or FREEZING when it or an ancestor is frozen (the
    /// kernel reports the effective state, and a new child of a frozen cgroup starts
    /// frozen). cgroup v2 (also the unified hierarchy of a hybrid host, where
    /// cgroup.freeze freezes processes too): cgroup.freeze of the container's cgroup
    /// and of every ancestor below the mount point, since a child does not show its
    /// ancestors' setting and a new one starts frozen under them.
    public func frozenCgroup() -> String? {
        for (h, path) in zip(layout.hierarchies, paths) {
            if h.version == .v1 {
                guard h.controllers.contains("freezer") else { continue }
                guard let dir = Self.ancestry(path, below: h.mountPoint).first(where: { Files.isDirectory($0) }) else { continue }
                let state = (Self.text(dir + "/freezer.state") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                if state == "FROZEN" || state == "FREEZING" {
                    return "\(dir)/freezer.state is \(state)"
                }
            } else {
                for dir in Self.ancestry(path, below: h.mountPoint) where Files.isDirectory(dir) {
                    if Self.readUInt(dir + "/cgroup.freeze") == 1 { return "\(dir)/cgroup.freeze is 1" }
                }
            }
        }
        return nil
    }

    /// runc's refusal ("container's cgroup unexpectedly frozen"), with the file that
    /// says so; create makes it before the init joins.
    public func refuseIfFrozen() throws {
        if let why = frozenCgroup() {
            throw CgroupError(message: "linux.cgroupsPath: container's cgroup unexpectedly frozen (\(why)): thaw it or choose another cgroupsPath")
        }
    }

    /// `path` and its ancestors strictly below `mountPoint`, deepest first.
    static func ancestry(_ path: String, below mountPoint: String) -> [String] {
        var result: [String] = []
        var current = path
        while current.count > mountPoint.count, current.hasPrefix(mountPoint + "/") {
            result.append(current)
            guard let slash = current.lastIndex(of: "/") else { break }
            current = String(current[..<slash])
        }
        return result
    }
}
