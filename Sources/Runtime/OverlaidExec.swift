import OCI

/// The process `exec` starts in a container made from a rewritten spec (a policy
/// over an engine's): an engine builds it from its own idea of the container
/// (Podman's `--process` file carries its capabilities), so the rewrite's rules are
/// laid over it as over the init: no capability outside the container's, and
/// no_new_privileges on.
enum OverlaidExec {
    static func process(_ given: OCI.Process, container: OCI.Process?) -> OCI.Process {
        var process = given
        process.noNewPrivileges = true
        let allowed = container?.capabilities?.bounding ?? []
        var caps = process.capabilities ?? LinuxCapabilities()
        func cut(_ set: [String]?) -> [String]? { set.map { $0.filter(allowed.contains) } }
        caps.bounding = cut(caps.bounding)
        caps.effective = cut(caps.effective)
        caps.inheritable = cut(caps.inheritable)
        caps.permitted = cut(caps.permitted)
        caps.ambient = cut(caps.ambient)
        process.capabilities = caps
        return process
    }
}
