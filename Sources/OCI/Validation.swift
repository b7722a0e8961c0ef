// Tracks the OCI runtime-spec v1.2.0 (config.md, config-linux.md).
//
// Validation runs before the runtime changes anything (no state directory, no cgroup, no
// clone), so a bad config costs nothing. It stops at the first problem and names its
// field, as `OCIError` always does.

extension Spec {
    /// Checks that the configuration can be run, throwing the first problem found.
    ///
    /// Beyond what decoding already guarantees (types, required properties, closed
    /// vocabularies), this checks the version, paths that must be absolute, names that
    /// must be known (capabilities, rlimits), ranges, and the namespaces that some
    /// settings need (a hostname needs a UTS namespace, `net.*` sysctls a network one).
    ///
    /// - Throws: `OCIError`, e.g. `hostname: requires a private UTS namespace ...`.
    public func validate() throws {
        try SpecValidator(spec: self).run()
    }
}

/// The checks of `Spec.validate()`, top-down in document order.
struct SpecValidator {
    let spec: Spec

    func run() throws {
        try checkVersion()
        try checkRoot()
        try checkProcess()
        try checkUTSName(spec.hostname, field: "hostname")
        try checkUTSName(spec.domainname, field: "domainname")
        try checkMounts()
        try checkMountNamespace()
        try checkHooks()
        try checkAnnotations()
        try checkLinux()
    }

    private func checkVersion() throws {
        guard !spec.ociVersion.isEmpty else {
            throw OCIError(field: "ociVersion", message: "must not be empty")
        }
        guard let version = SpecVersion(spec.ociVersion) else {
            throw OCIError(field: "ociVersion", message: "\(FieldPath.quoted(spec.ociVersion)) is not a semantic version (expected MAJOR.MINOR.PATCH, e.g. \(Spec.version))")
        }
        guard version.isSupported else {
            throw OCIError(field: "ociVersion", message: "version \(FieldPath.quoted(spec.ociVersion)) is not supported (this runtime supports \(SpecVersion.oldestSupported) through \(SpecVersion.newestSupported.major).\(SpecVersion.newestSupported.minor).x)")
        }
    }

    private func checkRoot() throws {
        guard let root = spec.root else {
            throw OCIError(field: "root", message: "is required")
        }
        guard !root.path.isEmpty else {
            throw OCIError(field: "root.path", message: "must not be empty")
        }
    }

    private func checkProcess() throws {
        guard let process = spec.process else {
            throw OCIError(field: "process", message: "is required")
        }
        guard let args = process.args, let program = args.first else {
            throw OCIError(field: "process.args", message: "must name the program to run (at least one entry)")
        }
        if program.isEmpty {
            throw OCIError(field: "process.args[0]", message: "must not be empty")
        }
        for (index, arg) in args.enumerated() where arg.utf8.contains(0) {
            throw OCIError(field: "process.args[\(index)]", message: "must not contain a NUL byte")
        }
        try checkAbsolute(process.cwd, field: "process.cwd")
        for (index, entry) in (process.env ?? []).enumerated() {
            // execve(2) passes "KEY=value" strings; anything else is lost or misread.
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex, !entry.utf8.contains(0) else {
                throw OCIError(field: "process.env[\(index)]", message: "must have the form KEY=value, found \(FieldPath.quoted(entry))")
            }
        }
        if process.consoleSize != nil, process.terminal != true {
            throw OCIError(field: "process.consoleSize", message: "requires process.terminal to be true")
        }
        if let adjustment = process.oomScoreAdj, !(-1000...1000).contains(adjustment) {
            throw OCIError(field: "process.oomScoreAdj", message: "must be between -1000 and 1000, found \(adjustment)")
        }
        if let priority = process.ioPriority?.priority, !(0...7).contains(priority) {
            throw OCIError(field: "process.ioPriority.priority", message: "must be between 0 and 7, found \(priority)")
        }
        try checkCapabilities(process.capabilities)
        try checkRlimits(process.rlimits ?? [])
    }

    private func checkCapabilities(_ capabilities: LinuxCapabilities?) throws {
        guard let capabilities else { return }
        // One call per set, not a loop over an array of (name, set) tuples: the
        // runtime builds such an array's type from its mangled name on every start.
        try checkCapabilitySet("bounding", capabilities.bounding)
        try checkCapabilitySet("effective", capabilities.effective)
        try checkCapabilitySet("inheritable", capabilities.inheritable)
        try checkCapabilitySet("permitted", capabilities.permitted)
        try checkCapabilitySet("ambient", capabilities.ambient)
    }

    private func checkCapabilitySet(_ setName: String, _ names: [String]?) throws {
        // A well-formed CAP_ name this table does not know is accepted: it may be
        // newer than this runtime, and runc ignores it with a warning (engines rely
        // on that). Anything else is a malformed value.
        for (index, name) in (names ?? []).enumerated() where capabilityNumber(name) == nil && !Self.isCapabilityShaped(name) {
            var message = "unknown capability \(FieldPath.quoted(name))"
            // "chown" or "cap_chown" are common slips; say what was meant.
            let upper = name.uppercased()
            let guess = upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
            if capabilityNumber(guess) != nil { message += " (did you mean \(guess)?)" }
            throw OCIError(field: "process.capabilities.\(setName)[\(index)]", message: message)
        }
    }

    /// "CAP_" followed by upper-case letters, digits and underscores.
    static func isCapabilityShaped(_ name: String) -> Bool {
        guard name.hasPrefix("CAP_"), name.count > 4 else { return false }
        return name.utf8.dropFirst(4).allSatisfy { ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5f }
    }

    private func checkRlimits(_ rlimits: [POSIXRlimit]) throws {
        // Not a [String: Int]: see capabilityNumber(_:) for what a dictionary costs here.
        var seen: [String] = []
        for (index, rlimit) in rlimits.enumerated() {
            let field = "process.rlimits[\(index)]"
            guard rlimitResource(rlimit.type) != nil else {
                throw OCIError(field: "\(field).type", message: "unknown rlimit \(FieldPath.quoted(rlimit.type)) (expected one of \(rlimitResources.keys.sorted().joined(separator: ", ")))")
            }
            if let first = seen.firstIndex(of: rlimit.type) {
                throw OCIError(field: "\(field).type", message: "duplicate rlimit \(rlimit.type) (first at process.rlimits[\(first)])")
            }
            seen.append(rlimit.type)
            if rlimit.soft > rlimit.hard {
                throw OCIError(field: "\(field).soft", message: "soft limit \(rlimit.soft) exceeds hard limit \(rlimit.hard)")
            }
        }
    }

    /// hostname and domainname are set with sethostname(2)/setdomainname(2), which would
    /// rename the host unless the container has its own UTS namespace.
    ///
    /// The kernel keeps a UTS name in 64 bytes (__NEW_UTS_LEN) and sethostname(2) and
    /// setdomainname(2) fail with a bare EINVAL beyond that, after the container's
    /// namespaces exist: checked here, with the field named. A NUL byte would cut the
    /// name short silently. Without a UTS namespace a non-empty hostname fails first,
    /// and an empty one passes every check, so the domainname's errors still come after.
    private func checkUTSName(_ name: String?, field: String) throws {
        guard let name else { return }
        if !name.isEmpty, spec.linux?.namespace(.uts) == nil {
            throw OCIError(field: field, message: "requires a private UTS namespace (add {\"type\": \"uts\"} to linux.namespaces)")
        }
        let length = name.utf8.count
        if length > Self.maximumUTSNameLength {
            throw OCIError(field: field, message: "is \(length) bytes long; the kernel allows at most \(Self.maximumUTSNameLength)")
        }
        if name.utf8.contains(0) {
            throw OCIError(field: field, message: "must not contain a NUL byte")
        }
    }

    /// __NEW_UTS_LEN in linux/utsname.h (HOST_NAME_MAX).
    static let maximumUTSNameLength = 64

    private func checkMounts() throws {
        for (index, mount) in (spec.mounts ?? []).enumerated() {
            // Runtime-spec 1.2 lets Linux read a relative destination as relative to "/";
            // safehouse requires absolute ones, which every engine writes, so that no
            // later step has to guess the anchor.
            try checkAbsolute(mount.destination, field: "mounts[\(index)].destination")
        }
    }

    private func checkHooks() throws {
        guard let hooks = spec.hooks else { return }
        let lists: [(String, [Hook]?)] = [
            ("prestart", hooks.prestart), ("createRuntime", hooks.createRuntime),
            ("createContainer", hooks.createContainer), ("startContainer", hooks.startContainer),
            ("poststart", hooks.poststart), ("poststop", hooks.poststop),
        ]
        for (kind, list) in lists {
            for (index, hook) in (list ?? []).enumerated() {
                let field = "hooks.\(kind)[\(index)]"
                try checkAbsolute(hook.path, field: "\(field).path")
                if let timeout = hook.timeout, timeout <= 0 {
                    throw OCIError(field: "\(field).timeout", message: "must be greater than zero, found \(timeout)")
                }
            }
        }
    }

    private func checkAnnotations() throws {
        if spec.annotations?.keys.contains("") ?? false {
            throw OCIError(field: "annotations", message: "keys must not be empty")
        }
    }

    /// Throws unless `path` is absolute ("must be an absolute path, found ...").
    func checkAbsolute(_ path: String, field: String) throws {
        guard !path.isEmpty else {
            throw OCIError(field: field, message: "must not be empty")
        }
        guard path.hasPrefix("/") else {
            throw OCIError(field: field, message: "must be an absolute path, found \(FieldPath.quoted(path))")
        }
    }
}
