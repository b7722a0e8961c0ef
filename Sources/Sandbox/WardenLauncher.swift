import ContainerCore
import CLinux
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// Starts a sandbox's warden (the `safehouse-warden` executable, Sources/Warden) as a
/// session leader with its standard streams on /dev/null and no other descriptor of
/// ours. It is forked by `create` outside the container's cgroups, so a cgroup-wide
/// kill never reaches it; when `create` exits it is re-parented (to the engine's shim
/// or conmon, which reap it, or to init).
package enum WardenLauncher {
    /// The signals the warden reads from a signalfd. They are blocked before exec (the
    /// mask survives execve) so that a SIGUSR1 from `start` arriving before the warden
    /// is ready waits instead of killing it.
    static let signals: [Int32] = [SIGUSR1, SIGTERM, SIGINT, SIGHUP]

    /// `safehouse-warden` next to the running executable, unless `configured` names one.
    package static func executable(configured: String?) -> String? {
        configured ?? Processes.siblingExecutable("safehouse-warden")
    }

    /// What the warden needs to serve the egress proxy.
    package struct Egress {
        /// The listening sockets in the sandbox's network namespace (EgressListener).
        package var sockets: EgressListener.Sockets
        /// The allowlist, comma separated.
        var allow: String
        var hostsFile: String?
        var maxConnections: Int?
        var maxBytes: UInt64?
        var idleTimeout: Double?

        package init(sockets: EgressListener.Sockets, allow: String, hostsFile: String?, maxConnections: Int?,
                     maxBytes: UInt64?, idleTimeout: Double?) {
            self.sockets = sockets
            self.allow = allow
            self.hostsFile = hostsFile
            self.maxConnections = maxConnections
            self.maxBytes = maxBytes
            self.idleTimeout = idleTimeout
        }
    }

    /// Where the warden writes its audit records (egress decisions as they are made;
    /// with `recordExit`, the init's exit status).
    package struct Audit {
        var log: String
        var key: String?
        var id: String
        /// The runtime is not the init's parent (an engine's create, `run --detach`):
        /// the warden learns the exit status (taskstats) and records it.
        var recordExit: Bool
    }

    /// A started warden. `ready`: the read end of a pipe the warden writes one byte to
    /// (or closes, dying) once it listens for the init's exit; `waitUntilReady` reads it.
    package struct Started {
        package var pid: Int32
        package var ready: FileDescriptor?

        /// Waits (at most `timeout` seconds) for the warden to listen for the init's
        /// exit, so that the exit cannot come first: called at the end of `create`, so
        /// the warden's start-up overlaps with the init's set-up.
        package func waitUntilReady(timeout: Double = 5) {
            guard let ready else { return }
            var fds = [pollfd(fd: ready.rawValue, events: Int16(POLLIN), revents: 0)]
            while poll(&fds, 1, Int32(timeout * 1000)) < 0 && errno == EINTR {}
            ready.close()
        }
    }

    package static func spawn(_ executable: String, stateDirectory: String, initPid: Int32,
                      timeoutSeconds: Double?, cgroupPaths: [String], egress: Egress? = nil,
                      audit: Audit? = nil, owner: Int32? = nil) throws -> Started {
        var args = [executable, "--state-dir", stateDirectory, "--pid", String(initPid)]
        if let owner { args += ["--owner", String(owner)] }
        if let t = timeoutSeconds { args += ["--timeout", String(t)] }
        for p in cgroupPaths { args += ["--cgroup", p] }
        var readyEnds: (FileDescriptor, FileDescriptor)?
        if let audit {
            args += ["--audit", audit.log, "--audit-id", audit.id]
            if let key = audit.key { args += ["--audit-key", key] }
            if audit.recordExit {
                let ends = try FileDescriptor.pipe()
                readyEnds = ends
                args += ["--record-exit", "--ready-fd", String(ends.1.rawValue)]
            }
        }
        let inherited = (egress?.sockets.all.map(\.rawValue) ?? []) + (readyEnds.map { [$0.1.rawValue] } ?? [])
        if let egress {
            let s = egress.sockets
            if let fd = s.proxy { args += ["--egress-fd", String(fd.rawValue)] }
            if let fd = s.socks { args += ["--socks-fd", String(fd.rawValue)] }
            for fd in s.capture { args += ["--capture-fd", String(fd.rawValue)] }
            if let fd = s.dns { args += ["--dns-fd", String(fd.rawValue)] }
            args += ["--egress-allow", egress.allow]
            if let h = egress.hostsFile { args += ["--egress-hosts", h] }
            if let n = egress.maxConnections { args += ["--egress-max-connections", String(n)] }
            if let n = egress.maxBytes { args += ["--egress-max-bytes", String(n)] }
            if let t = egress.idleTimeout { args += ["--egress-idle-timeout", String(t)] }
        }
        // Prepared before the fork: the child only makes plain system calls.
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
        defer { for p in cArgs + cEnv { free(p) } }
        let (errorRead, errorWrite) = try FileDescriptor.pipe()
        let keepSorted = ([errorWrite.rawValue] + inherited).filter { $0 >= 3 }.sorted()
        let pid = try Processes.fork()
        if pid == 0 {
            _ = setsid()
            let null = open("/dev/null", O_RDWR)
            if null >= 0 { _ = dup2(null, 0); _ = dup2(null, 1); _ = dup2(null, 2) }
            Signals.block(signals)
            // Keep only the error pipe (close-on-exec) and the egress sockets (inherited)
            // past descriptor 2.
            let keep = errorWrite.rawValue
            var from: Int32 = 3
            for fd in keepSorted {
                if fd > from { _ = sh_close_range(UInt32(from), UInt32(fd - 1), 0) }
                from = fd + 1
            }
            _ = sh_close_range(UInt32(from), UInt32.max, 0)
            for fd in inherited { _ = sh_set_cloexec(fd, 0) }
            execve(executable, &cArgs, &cEnv)
            var code = errno
            _ = withUnsafeBytes(of: &code) { Glibc.write(keep, $0.baseAddress, 4) }
            _exit(127)
        }
        errorWrite.close()
        readyEnds?.1.close()
        defer { errorRead.close() }
        let bytes = (try? errorRead.read(upTo: 4)) ?? []
        if bytes.count == 4 {
            _ = try? Processes.wait(pid)
            readyEnds?.0.close()
            let code = bytes.withUnsafeBytes { $0.load(as: Int32.self) }
            throw RuntimeError("warden \(executable): \(SystemError.message(for: code))")
        }
        return Started(pid: pid, ready: readyEnds?.0)
    }
}
