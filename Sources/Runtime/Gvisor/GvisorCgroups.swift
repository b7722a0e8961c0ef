import ContainerCore
import Cgroups
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// The cgroup directories runsc put a sandbox in, read from the sandbox process's
/// `/proc/PID/cgroup` (runsc places the sandbox, the gofer and every container
/// process by the spec's `cgroupsPath`, with its own reading of relative paths, so
/// safehouse asks the kernel rather than working the path out again).
enum GvisorCgroups {
    static func paths(of pid: Int32) -> [String] {
        guard let text = try? Files.readString("/proc/\(pid)/cgroup") else { return [] }
        let mounts = mountPoints()
        // Without a cgroupsPath runsc leaves the sandbox in its caller's cgroups:
        // those are not the container's to kill or remove.
        let ours = Set(paths(procCgroup: (try? Files.readString("/proc/self/cgroup")) ?? "", mounts: mounts))
        return paths(procCgroup: text, mounts: mounts).filter { !ours.contains($0) }
    }

    /// `hierarchy-id:controllers:path` lines joined to the mount point of each
    /// hierarchy (`controllers` empty: the unified one). Hierarchies not mounted are
    /// skipped; the root cgroup ("/") is never returned (nothing of ours to kill or remove).
    static func paths(procCgroup: String, mounts: [String: String]) -> [String] {
        var result: [String] = []
        for line in procCgroup.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, fields[2] != "/" else { continue }
            let controllers = fields[1].split(separator: ",").filter { !$0.hasPrefix("name=") }
            let key = controllers.isEmpty ? (fields[1].hasPrefix("name=") ? String(fields[1]) : "") : controllers.sorted().joined(separator: ",")
            guard let mount = mounts[key] else { continue }
            let path = mount + fields[2]
            if !result.contains(path) { result.append(path) }
        }
        return result
    }

    /// The native runtime's rule for the cgroup runsc will put the sandbox in
    /// (CgroupClaim): a sandbox's own path under /safehouse-gvisor must not exist yet,
    /// and a spec's absolute cgroupsPath must hold no processes. A relative path is
    /// runsc's own reading and not checked; without a cgroupsPath a plain container
    /// stays in its caller's cgroups.
    static func claim(_ spec: Spec, id: String, sandbox: Bool) throws {
        let given = spec.linux?.cgroupsPath ?? ""
        let path = sandbox ? GvisorSandboxBundle.sandboxCgroupsPath(spec, id: id) : given
        guard path.hasPrefix("/"), !path.split(separator: "/").contains("..") else { return }
        let origin: CgroupClaim.Origin = given.isEmpty ? .chosenByRuntime : .givenBySpec(given)
        let directories = Set(mountPoints().values).sorted().map { PathText.normalize($0 + path) }
        do { _ = try CgroupClaim.check(directories, origin: origin) } catch { throw RuntimeError("\(error)") }
    }

    /// After a failed `runsc create`, or a `runsc run` whose sandbox died: the cgroup
    /// directories runsc made and left (`runsc delete` no longer knows the id). runsc
    /// places a sandbox at the spec's absolute `cgroupsPath`, or at `/ID` without one.
    /// Only `rmdir`: an empty directory goes, anything still in use stays, and nothing
    /// is signalled (a relative or shared path is never touched). Where runsc removed
    /// them itself, this is a failed rmdir per hierarchy.
    static func removeAfterFailedCreate(cgroupsPath: String?, id: String) {
        let path = (cgroupsPath ?? "").isEmpty ? "/" + id : cgroupsPath ?? ""
        guard path.hasPrefix("/"), path != "/", !path.split(separator: "/").contains("..") else { return }
        // The sandbox's gofer may still be on its way out: retry EBUSY for up to 1 s.
        var waited = 0
        for mount in Set(mountPoints().values) {
            while rmdir(mount + path) != 0, errno == EBUSY, waited < 200 {
                usleep(5000)
                waited += 1
            }
        }
    }

    /// A manager for a sandbox's recorded directories. They come in /proc/PID/cgroup's
    /// order, and only for the hierarchies runsc used, while a manager pairs its
    /// paths with its layout's hierarchies by index: so the layout is the host's,
    /// cut to those hierarchies, in the host's order.
    static func manager(for paths: [String], host: CgroupLayout = .host()) -> CgroupManager {
        var hierarchies: [CgroupHierarchy] = []
        var ordered: [String] = []
        for h in host.hierarchies {
            if let path = paths.first(where: { $0.hasPrefix(h.mountPoint + "/") }), !ordered.contains(path) {
                hierarchies.append(h)
                ordered.append(path)
            }
        }
        return CgroupManager(paths: ordered, layout: CgroupLayout(hierarchies: hierarchies))
    }

    /// Mount points of cgroup hierarchies by controller set ("" for cgroup2).
    static func mountPoints() -> [String: String] {
        guard let text = try? Files.readString("/proc/self/mountinfo") else { return [:] }
        var mounts: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " - ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let before = parts[0].split(separator: " "), after = parts[1].split(separator: " ")
            guard before.count >= 5, after.count >= 3 else { continue }
            let mountPoint = String(before[4])
            if after[0] == "cgroup2" {
                if mounts[""] == nil { mounts[""] = mountPoint }
            } else if after[0] == "cgroup" {
                let options = after[2].split(separator: ",")
                let known: Set<Substring> = ["rw", "ro", "nosuid", "nodev", "noexec", "relatime", "xattr", "clone_children"]
                let named = options.first { $0.hasPrefix("name=") }
                let controllers = options.filter { !known.contains($0) && !$0.hasPrefix("name=") && !$0.hasPrefix("release_agent") }
                let key = controllers.isEmpty ? (named.map(String.init) ?? "") : controllers.sorted().joined(separator: ",")
                if !key.isEmpty, mounts[key] == nil { mounts[key] = mountPoint }
            }
        }
        return mounts
    }
}
