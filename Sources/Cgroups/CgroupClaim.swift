import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The check a container's cgroup directories pass before the runtime makes or
/// joins them, so that a container never lands in a cgroup holding someone else's
/// processes: the warden's deadline, `kill --all` and `delete` act on every member
/// of the container's cgroups, and `delete` removes them.
///
/// Every hierarchy is checked (each v1 controller's and the cgroup2 one of a hybrid
/// host), not only one as runc does: a host cgroup may exist in some and not others.
public enum CgroupClaim {
    /// Who named the cgroup, which decides what an existing directory means.
    public enum Origin: Sendable {
        /// The runtime picked the path (no linux.cgroupsPath): a directory already
        /// there is not the container's, whatever it holds, and is refused.
        case chosenByRuntime
        /// An engine named it in linux.cgroupsPath: as runc, an existing cgroup is
        /// joined only when it has no processes (in it or any cgroup below it).
        case givenBySpec(String)
    }

    /// Checks `paths` (one per hierarchy) and returns those that do not exist yet:
    /// the directories the runtime is about to make, and the only ones it may later
    /// remove.
    public static func check(_ paths: [String], origin: Origin) throws -> [String] {
        var fresh: [String] = []
        for path in paths {
            guard Files.isDirectory(path) else {
                if Files.exists(path) { throw CgroupError(message: "cgroup \(path) exists and is not a directory", path: path) }
                fresh.append(path)
                continue
            }
            let members = processCount(below: path)
            switch origin {
            case .givenBySpec(let given):
                if members > 0 {
                    throw CgroupError(message: "linux.cgroupsPath \"\(given)\": container's cgroup is not empty: \(members) process(es) found in \(path)", path: path)
                }
            case .chosenByRuntime:
                let holding = members > 0 ? "container's cgroup is not empty: \(members) process(es) found in \(path)"
                                          : "cgroup \(path) already exists"
                throw CgroupError(message: "\(holding); the runtime did not make it and will not join it (use another container id, or name the cgroup in linux.cgroupsPath)", path: path)
            }
        }
        return fresh
    }

    /// The processes in the cgroup at `path` and every cgroup below it (runc's
    /// GetAllPids). A cgroup whose process list cannot be read counts its threads.
    public static func processCount(below path: String) -> Int {
        var count = 0
        for dir in [path] + CgroupManager.descendants(of: path) {
            if let text = (try? Files.readString(dir + "/cgroup.procs")) ?? (try? Files.readString(dir + "/cgroup.threads")) {
                count += text.split(separator: "\n").count
            }
        }
        return count
    }

    /// The file in a container's state directory listing the cgroup directories the
    /// runtime made for it, written before the first of them is made: a create killed
    /// before its state is saved leaves this to tell `delete --force` what to remove.
    public static let fileName = "cgroups.created"

    public static func record(_ paths: [String], inDirectory dir: String) throws {
        // A loop, not joined(): the generic joined has the Swift runtime look up a
        // conformance, a scan of every one in this static binary (0.17 ms, perf).
        var text = ""
        for path in paths { text += path + "\n" }
        try Files.writeAtomically(dir + "/" + fileName, Array(text.utf8), mode: 0o600)
    }

    public static func recorded(inDirectory dir: String) -> [String]? {
        guard let text = try? Files.readString(dir + "/" + fileName) else { return nil }
        return text.split(separator: "\n").map(String.init)
    }

    /// Makes `path`'s parents as needed and `path` itself, failing if it exists.
    static func makeExclusively(_ path: String) throws {
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try Files.makeDirectories(String(path[..<slash]))
        }
        if mkdir(path, 0o755) != 0 {
            let code = errno
            if code == EEXIST {
                throw CgroupError(message: "appeared while the container was being created; the runtime will not join it", path: path, errno: code)
            }
            throw CgroupError(message: "mkdir: \(SystemError.message(for: code))", path: path, errno: code)
        }
    }
}
