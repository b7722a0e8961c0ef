import ContainerCore
import CLinux
import Linux
import SandboxInterface
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

    /// fcntl's F_SETPIPE_SZ (F_LINUX_SPECIFIC_BASE + 7), which Glibc's module does not export.
    static let setPipeSize: Int32 = 1031

    /// `safehouse-warden` next to the running executable, unless `configured` names one.
    package static func executable(configured: String?) -> String? {
        configured ?? Processes.siblingExecutable("safehouse-warden")
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

    /// Starts the warden with `configuration` (its egress sockets already in it). With
    /// `recordExit` and an audit log, a ready pipe is made for it (Started.ready).
    ///
    /// The configuration goes to the warden as one JSON document in a pipe it inherits
    /// (`--config-fd`), written and closed before the fork: a pipe is a system call
    /// and a write in memory, where a file would be a create, a write and a later
    /// removal in the state directory on `run`'s path, and it leaves nothing behind.
    package static func spawn(_ executable: String, _ configuration: WardenConfiguration) throws -> Started {
        var configuration = configuration
        var readyEnds: (FileDescriptor, FileDescriptor)?
        if configuration.audit != nil, configuration.recordExit {
            let ends = try FileDescriptor.pipe()
            readyEnds = ends
            configuration.readyFD = ends.1.rawValue
        }
        let document = configuration.document
        let (configRead, configWrite) = try FileDescriptor.pipe()
        defer { configRead.close() }
        do {
            // A pipe holds 64 KiB; a longer document (a very long allowlist) gets a
            // larger pipe, or create fails rather than block on a pipe nobody reads yet.
            if document.count > 65536, fcntl(configWrite.rawValue, Self.setPipeSize, Int32(clamping: document.count)) < document.count {
                throw RuntimeError("warden \(executable): its configuration (\(document.count) bytes) does not fit in a pipe")
            }
            try configWrite.write(document)
            configWrite.close()
        } catch {
            configWrite.close()
            readyEnds?.0.close()
            readyEnds?.1.close()
            throw error
        }
        let args = [executable, "--state-dir", configuration.stateDirectory, "--config-fd", String(configRead.rawValue)]
        let inherited = configuration.egressDescriptors + (readyEnds.map { [$0.1.rawValue] } ?? []) + [configRead.rawValue]
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
            // Keep only the error pipe (close-on-exec) and what the warden inherits (the
            // configuration pipe, the egress sockets, the ready pipe) past descriptor 2.
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
