import Linux
import OCI

/// The user's process identity and limits: rlimits, the executable, inherited
/// descriptors, uid/gid/groups, capabilities, cwd, umask and no_new_privs.
struct ProcessSetup {
    let process: OCI.Process
    let userNamespace: Bool

    func applyLimits() throws {
        for limit in process.rlimits ?? [] {
            guard let resource = rlimitResource(limit.type) else {
                throw RuntimeError("process.rlimits: unknown type \(limit.type)")
            }
            do {
                try Credentials.setLimit(resource, name: limit.type, soft: limit.soft, hard: limit.hard)
            } catch let e as SystemError where e.code == .notPermitted {
                let current = Credentials.limit(resource)?.hard
                let have = current.map { $0 == UInt64.max ? "unlimited" : String($0) } ?? "unknown"
                throw RuntimeError("setrlimit \(limit.type): cannot raise the hard limit to \(limit.hard) (the runtime's own hard limit is \(have)): operation not permitted")
            }
        }
    }

    /// The environment the program gets: process.env, plus HOME from the container's
    /// /etc/passwd when env has none (runc does the same; "/" when there is no entry).
    func environment() -> [String] {
        var env = process.env ?? []
        guard !env.contains(where: { $0.hasPrefix("HOME=") }) else { return env }
        var home = "/"
        if let passwd = try? Files.read("/etc/passwd") {
            home = Self.homeDirectory(of: process.user.uid, inPasswd: passwd) ?? "/"
        }
        env.append("HOME=" + home)
        return env
    }

    /// The home directory (sixth field) of the first /etc/passwd line whose uid (third
    /// field) is `uid`, if it is not empty. On the bytes: the generic `split` of the
    /// whole file into lines and fields was 12 % of the init's instructions.
    static func homeDirectory(of uid: UInt32, inPasswd bytes: [UInt8]) -> String? {
        var colons: [Int] = []
        colons.reserveCapacity(6)
        var home: String?
        ByteLines.forEach(in: bytes) { line in
            guard home == nil else { return }
            // name:password:uid:gid:gecos:home[:shell]: fields 2 and 5 lie between colons.
            ByteLines.separators(UInt8(ascii: ":"), in: bytes, line, limit: 6, into: &colons)
            guard colons.count >= 5 else { return }
            let homeEnd = colons.count == 6 ? colons[5] : line.upperBound
            let uidStart = colons[1] + 1, uidEnd = colons[2]
            guard uidEnd > uidStart && uidEnd - uidStart <= 10 else { return }
            var value: UInt64 = 0
            for k in uidStart..<uidEnd {
                let digit = bytes[k] &- UInt8(ascii: "0")
                if digit > 9 { return }
                value = value * 10 + UInt64(digit)
            }
            if value == UInt64(uid), homeEnd > colons[4] + 1 {
                home = String(decoding: bytes[(colons[4] + 1)..<homeEnd], as: UTF8.self)
            }
        }
        return home
    }

    /// Finds args[0] in the container (with the process's PATH), before blocking on
    /// `start`, so a missing program fails `create` like runc, not `start`.
    func resolveExecutable() throws -> String {
        guard let command = process.args?.first, !command.isEmpty else {
            throw RuntimeError("process.args must not be empty")
        }
        if let path = Processes.lookPath(command, env: process.env ?? []) { return path }
        if command.contains("/") {
            // Go's exec.LookPath, which runc uses, and whose words engines match: a path
            // that cannot be stat'ed says why ("no such file or directory" -> Podman's
            // exit 127), one that exists but is no executable file is "permission denied"
            // (-> 126).
            do {
                _ = try Files.status(command)
            } catch let e as SystemError {
                throw RuntimeError("exec: \"\(command)\": \(e)")
            }
            throw RuntimeError("exec: \"\(command)\": permission denied")
        }
        throw RuntimeError("exec: \"\(command)\": executable file not found in $PATH")
    }

    /// Everything the runtime had open beyond stdio and the preserved descriptors is
    /// marked close-on-exec: nothing of the host leaks into the container (CVE-2024-21626).
    func closeInheritedDescriptors(keeping preserve: Int, plus open: [FileDescriptor]) throws {
        // Closed now, not only at exec: a created container waiting for `start` must
        // not hold the caller's descriptors either (a shim's pipes would stay open).
        let first = Int32(3 + max(0, preserve))
        try FileDescriptor.closeAll(from: first, except: open.map(\.rawValue).filter { $0 >= 0 })
        for fd in open where fd.rawValue >= 0 { try? fd.setCloseOnExec(true) }
    }

    /// Drops to the container user with exactly the spec's capabilities.
    func switchUser() throws {
        let caps = process.capabilities
        let lastCap = Capabilities.lastCap
        let bounding = capabilitySet(caps?.bounding, lastCap: lastCap)
        let effective = capabilitySet(caps?.effective, lastCap: lastCap)
        let permitted = capabilitySet(caps?.permitted, lastCap: lastCap)
        let inheritable = capabilitySet(caps?.inheritable, lastCap: lastCap)
        let ambient = capabilitySet(caps?.ambient, lastCap: lastCap)

        // A capability the runtime itself lacks cannot be granted: say which one,
        // rather than capset's bare EPERM (CAP_SYS_RESOURCE on this machine kind).
        let missing = (permitted.mask | effective.mask) & ~Capabilities.current().permitted.mask
        if missing != 0, let cap = (0...63).first(where: { missing & (1 << UInt64($0)) != 0 }) {
            let name = cap < knownCapabilities.count ? knownCapabilities[cap] : "capability \(cap)"
            throw RuntimeError("process.capabilities: \(name) is not in the runtime's own bounding set, so it cannot be granted")
        }

        try stage("drop bounding capabilities") {
            try Capabilities.limitBoundingSet(to: bounding, lastCap: lastCap)
        }
        // runc's order: the working directory is entered while still root, so a
        // directory only root may enter (cwd /root for a non-root user) works as it
        // does there; refused (EACCES, EPERM: a volume root cannot search, such as one
        // chowned to the user under root squash), it is tried again as the user.
        let cwd = process.cwd.isEmpty ? "/" : process.cwd
        let enteredAsRoot = try enterWorkingDirectory(cwd, retryable: true)
        // The pty made for the process belongs to the user before the user switch
        // takes CAP_CHOWN away. Only that pty: a host terminal passed in as stdio
        // (terminal false) stays the host's.
        if process.terminal ?? false {
            try stage("chown the terminal") { try TerminalOwnership.giveStdio(to: process.user.uid) }
        }
        try Capabilities.keepAcrossSetuid(true)
        let user = process.user
        try stage("set user \(user.uid):\(user.gid)") {
            // In a user namespace whose gid map was written without "setgroups deny"
            // (we write it as root), setgroups is allowed.
            try Credentials.setGroups(user.additionalGids ?? [])
            try Credentials.setGID(user.gid)
            try Credentials.setUID(user.uid)
        }
        try Capabilities.keepAcrossSetuid(false)

        if !enteredAsRoot { _ = try enterWorkingDirectory(cwd, retryable: false) }

        try stage("capset") {
            try Capabilities.set(effective: effective, permitted: permitted, inheritable: inheritable)
            if ambient.mask != 0 { Capabilities.raiseAmbient(ambient, lastCap: lastCap) }
        }
        Processes.setUmask(process.user.umask ?? 0o022)
        if process.noNewPrivileges ?? false {
            try ProcessControl.setNoNewPrivileges()
        }
    }

    /// chdir to the spec's cwd: false when it was refused for lack of permission and
    /// `retryable` (the caller tries again as the user), an error otherwise.
    private func enterWorkingDirectory(_ cwd: String, retryable: Bool) throws -> Bool {
        do {
            try HostKernel().changeDirectory(cwd)
            return true
        } catch let e as SystemError {
            if retryable && (e.code == .permissionDenied || e.code == .notPermitted) { return false }
            throw RuntimeError("process.cwd \(cwd): chdir: \(SystemError.message(for: e.errno))")
        }
    }

    /// Capability names to a set; names this runtime or kernel does not know are
    /// skipped, as runc does (`create` warned about them).
    private func capabilitySet(_ names: [String]?, lastCap: Int) -> CapabilitySet {
        var numbers: [Int] = []
        for name in names ?? [] {
            // Unknown to this runtime or to this kernel: skipped (the runtime warned).
            if let n = capabilityNumber(name), n <= lastCap { numbers.append(n) }
        }
        return CapabilitySet(numbers)
    }
}
