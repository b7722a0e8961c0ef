import ContainerCore
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// Resolves `path` inside `root` as if `root` were "/": symlinks are followed but can
/// never lead outside `root` (an absolute link target restarts at `root`, ".." stops
/// at it). Mount destinations go through this so that a hostile image cannot point a
/// mount at the host (the class of CVE-2021-30465). What it returns is a check, not a
/// guarantee: MountTarget walks it again from a descriptor of the root, so a swap made
/// after the check fails the walk instead of redirecting the mount.
enum SecureJoin {
    static func resolve(_ path: String, in root: String) throws -> String {
        // Strings and a path built by appending, not [Substring].joined: that generic
        // join is not specialized in the standard library and looked up its
        // conformances at run time in every container's init (4% of its set-up).
        var resolved: [String] = []
        var pending: [String] = path.split(separator: "/").reversed().map(String.init)
        var links = 0
        while let component = pending.popLast() {
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                _ = resolved.popLast()
                continue
            }
            let candidate = join(root, resolved) + "/" + component
            var st = Glibc.stat()
            if lstat(candidate, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK {
                links += 1
                if links > 255 { throw RuntimeError("\(path): too many levels of symbolic links") }
                let target = try Files.readLink(candidate)
                if target.hasPrefix("/") { resolved.removeAll() }
                pending.append(contentsOf: target.split(separator: "/").reversed().map(String.init))
                continue
            }
            resolved.append(component)
        }
        return join(root, resolved)
    }

    /// root + "/" + each component.
    private static func join(_ root: String, _ components: [String]) -> String {
        var path = root
        for component in components {
            path += "/"
            path += component
        }
        return path
    }
}
