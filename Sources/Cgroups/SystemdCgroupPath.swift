/// `cgroupsPath` in the systemd driver's form, "slice:prefix:name", turned into the
/// directory systemd itself would give the unit, so that an engine configured for the
/// systemd cgroup driver (Podman's `cgroup_manager = "systemd"`, containerd's
/// `SystemdCgroup = true`) works unchanged on a host without systemd.
///
/// Why not D-Bus: safehouse only takes this path when systemd is *not* running (no
/// /run/systemd/system). There is then no unit manager to ask, and the layout
/// systemd would use is the one operators and monitoring look for. On a host where
/// systemd runs, the flag is refused: creating directories behind systemd's back in its
/// own slices would fight it (runc asks systemd over D-Bus for a transient scope).
///
/// Layout (runc's systemd driver): the slice "a-b-c.slice" expands to
/// "/a.slice/a-b.slice/a-b-c.slice" ("-.slice" is the root); the unit is
/// "prefix-name.scope", or `name` itself when it ends in ".slice". An empty slice is
/// "system.slice"; an empty cgroupsPath is "system.slice:safehouse:ID".
public enum SystemdCgroupPath {
    /// The cgroupfs path for `cgroupsPath` (absolute within each hierarchy), or an
    /// error naming linux.cgroupsPath.
    public static func resolve(_ cgroupsPath: String?, id: String) throws -> String {
        let given = cgroupsPath ?? ""
        if given.isEmpty { return try resolve("system.slice:safehouse:\(id)", id: id) }
        let parts = given.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else {
            throw CgroupError(message: "linux.cgroupsPath: \"\(given)\" is not \"slice:prefix:name\" as --systemd-cgroup expects")
        }
        let (slice, prefix, name) = (parts[0].isEmpty ? "system.slice" : parts[0], parts[1], parts[2])
        guard !name.isEmpty else {
            throw CgroupError(message: "linux.cgroupsPath: \"\(given)\" has an empty name")
        }
        for (field, text) in [("prefix", prefix), ("name", name)] where text.contains("/") || text == "." || text == ".." {
            throw CgroupError(message: "linux.cgroupsPath: the \(field) \"\(text)\" must not contain \"/\" or be \".\" or \"..\"")
        }
        let unit = name.hasSuffix(".slice") ? name : "\(prefix)-\(name).scope"
        if name.hasSuffix(".slice") { _ = try expand(slice: name, in: given) }
        let parent = try expand(slice: slice, in: given)
        return (parent == "/" ? "" : parent) + "/" + unit
    }

    /// "a-b.slice" → "/a.slice/a-b.slice"; "-.slice" → "/".
    public static func expand(slice: String, in given: String) throws -> String {
        let bad = CgroupError(message: "linux.cgroupsPath: \"\(slice)\" in \"\(given)\" is not a valid systemd slice name")
        guard slice.hasSuffix(".slice"), !slice.contains("/") else { throw bad }
        if slice == "-.slice" { return "/" }
        let stem = slice.dropLast(".slice".count)
        let words = stem.split(separator: "-", omittingEmptySubsequences: false)
        guard !words.contains(where: \.isEmpty) else { throw bad }
        var path = "", prefix = ""
        for word in words {
            prefix += (prefix.isEmpty ? "" : "-") + word
            path += "/" + prefix + ".slice"
        }
        return path
    }
}
