import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The cgroups below a container's own. The runtime makes none, but `exec --cgroup`
/// places processes in sub-cgroups that the caller made, and runc's kill and delete
/// reach them (GetAllPids walks the tree; RemovePath removes it, deepest first).
enum CgroupSubtree {
    /// The directories strictly below `path`, deepest first.
    static func descendants(of path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        var children: [String] = []
        while let entry = readdir(dir) {
            guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { children.append(path + "/" + name) }
        }
        closedir(dir)
        return children.flatMap { descendants(of: $0) + [$0] }
    }
}
