import OCI

/// The process `exec` starts in a container made from a rewritten spec (a policy
/// over an engine's): an engine builds it from its own idea of the container
/// (Podman's `--process` file carries its capabilities), so the rewrite's rules are
/// laid over it as over the init: no capability outside the container's,
/// no_new_privileges on, and the variables the rewrite put in the container's
/// environment (the policy's env, an allowlist's proxy variables) where the engine's
/// exec process lacks them: an engine copies the environment of the spec it wrote,
/// not of the one the container runs, and a program exec'd into an egress sandbox
/// should find its proxy as the container's own do.
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
        var env = process.env ?? []
        for variable in container?.env ?? [] {
            let key = variable.prefix { $0 != "=" }
            if !env.contains(where: { $0.prefix { $0 != "=" } == key }) { env.append(variable) }
        }
        if process.env != nil || !env.isEmpty { process.env = env }
        return process
    }
}
