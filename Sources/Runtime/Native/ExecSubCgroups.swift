import ContainerCore
import Cgroups
import Linux

/// `exec --cgroup [controller[,controller]:]path`: the cgroups an exec'd process joins
/// instead of the container's own, as runc 1.1 places them. A bare path applies to
/// every hierarchy (v2 and each v1 one); a prefixed one only to the hierarchies of the
/// named controllers ("memory", "cpu,cpuacct", "name=systemd"; v2 has no controller
/// name in runc's map and is reached by a bare path only). Each sub-cgroup must exist
/// and stay inside the container's cgroup.
enum ExecSubCgroups {
    /// The container's `cgroupPaths` with the requested sub-cgroups substituted.
    static func resolve(_ requests: [String], containerPaths: [String], layout: CgroupLayout) throws -> [String] {
        guard !requests.isEmpty else { return containerPaths }
        var bare: String?
        var byController: [(controller: String, sub: String)] = []
        for request in requests {
            let parts = request.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            if parts.count == 1 {
                // runc: a path without controllers is for all of them, so only one.
                guard requests.count == 1 else {
                    throw RuntimeError("--cgroup \(request): a path without a controller prefix must be the only --cgroup")
                }
                bare = try checkedSub(parts[0], request)
            } else {
                let sub = try checkedSub(parts[1], request)
                for controller in parts[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
                    guard !controller.isEmpty else { throw RuntimeError("--cgroup \(request): empty controller name") }
                    guard !byController.contains(where: { $0.controller == controller }) else {
                        throw RuntimeError("--cgroup \(request): controller \(controller) given more than once")
                    }
                    byController.append((controller, sub))
                }
            }
        }
        // Each of the container's directories, keyed by its hierarchy's controllers:
        // a v1 hierarchy's mount options, the v2 directory's cgroup.controllers (a
        // controller is bound to one hierarchy, so no name is in two).
        let keyed: [(controllers: [String], path: String)] = containerPaths.map { path in
            let hierarchy = layout.hierarchies.first { path == $0.mountPoint || path.hasPrefix($0.mountPoint + "/") }
            if hierarchy?.version == .v2 {
                let text = (try? Files.readString(path + "/cgroup.controllers")) ?? ""
                return (text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init), path)
            }
            return (hierarchy?.controllers ?? [], path)
        }
        for (controller, _) in byController where !keyed.contains(where: { $0.controllers.contains(controller) }) {
            throw RuntimeError("--cgroup: unknown controller \(controller) (the container's are: \(keyed.flatMap(\.controllers).joined(separator: ", ")))")
        }
        return try keyed.map { entry in
            let sub = byController.first { entry.controllers.contains($0.controller) }?.sub ?? bare
            guard let sub else { return entry.path }
            let target = entry.path + "/" + sub
            guard Files.isDirectory(target) else {
                throw RuntimeError("--cgroup: sub-cgroup \(target) does not exist (exec joins existing cgroups only)")
            }
            return target
        }
    }

    /// A path below the container's cgroup: no "..", not empty; a leading "/" is the
    /// container's cgroup itself, as runc joins it (path.Join(base, sub)).
    private static func checkedSub(_ sub: String, _ request: String) throws -> String {
        let components = sub.split(separator: "/").map(String.init)
        guard !components.isEmpty, !components.contains("..") else {
            throw RuntimeError("--cgroup \(request): \(sub.isEmpty ? "empty path" : sub + " is not a sub-cgroup path (no ..)")")
        }
        return components.filter { $0 != "." }.joined(separator: "/")
    }
}
