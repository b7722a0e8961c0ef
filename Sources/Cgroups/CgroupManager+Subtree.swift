import Linux
#if canImport(Glibc)
import Glibc
#endif

/// Cgroups the container made under its own (a nested runtime, systemd in the
/// container, a test harness): they hold processes of the container and must go
/// with it. runc's GetAllPids and RemovePath walk the whole subtree too.
extension CgroupManager {
    /// The directories under `path` (not `path` itself), parents before children.
    static func descendants(of path: String) -> [String] {
        var result: [String] = []
        var queue = [path]
        while !queue.isEmpty {
            let dir = queue.removeFirst()
            guard let d = opendir(dir) else { continue }
            defer { closedir(d) }
            while let entry = readdir(d) {
                guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if name == "." || name == ".." { continue }
                let child = dir + "/" + name
                result.append(child)
                queue.append(child)
            }
        }
        return result
    }

    /// Every pid in the container's cgroups and the cgroups under them (kill --all, ps
    /// and delete reach the processes in sub-cgroups, as runc's GetAllPids does).
    public func processes() -> [Int32] {
        var pids = Set<Int32>()
        for path in paths {
            for dir in [path] + Self.descendants(of: path) {
                let text = (try? Files.readString(dir + "/cgroup.procs")) ?? ""
                for line in text.split(separator: "\n") { if let p = Int32(line) { pids.insert(p) } }
            }
        }
        return pids.sorted()
    }

    /// Thaws the container's cgroups and every cgroup under them, top down. A v1
    /// child frozen by its own freezer.state stays frozen when its parent thaws, and
    /// a frozen process does not act on SIGKILL (v1) until thawed.
    public func thawSubtree() {
        for path in paths {
            for dir in [path] + Self.descendants(of: path) {
                if let state = Self.text(dir + "/freezer.state"), !state.hasPrefix("THAWED") {
                    try? Self.write(dir + "/freezer.state", "THAWED")
                }
                if Self.readUInt(dir + "/cgroup.freeze") == 1 {
                    try? Self.write(dir + "/cgroup.freeze", "0")
                }
            }
        }
    }

    /// Kills every process of the container, sub-cgroups included: thaw the subtree
    /// (so no process sits frozen with the signal pending), then SIGKILL each member
    /// until none is left or `timeout` passes; returns whether the cgroups are empty.
    @discardableResult
    public func killSubtree(timeout: Double = 10) -> Bool {
        thawSubtree()
        killAll()
        let deadline = MonotonicClock.seconds() + timeout
        while true {
            let left = processes()
            if left.isEmpty { return true }
            if MonotonicClock.seconds() > deadline { return false }
            for pid in left { _ = Glibc.kill(pid, SIGKILL) }
            // A process that entered a frozen sub-cgroup meanwhile.
            thawSubtree()
            usleep(10_000)
        }
    }

    /// Removes the cgroups under `path`, deepest first; each must be empty.
    func removeDescendants(of path: String) throws {
        for dir in Self.descendants(of: path).reversed() {
            try Self.removeDirectory(dir)
        }
    }

    /// rmdir, retrying EBUSY for a moment: a process that just exited may still be
    /// counted. What is gone, or not a directory, is skipped.
    static func removeDirectory(_ path: String) throws {
        var attempt = 0
        while rmdir(path) != 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { break }
            attempt += 1
            if code != EBUSY || attempt > 50 {
                throw CgroupError(message: "remove cgroup \(path): \(SystemError.message(for: code))", path: path, errno: code)
            }
            usleep(2000)
        }
    }
}
