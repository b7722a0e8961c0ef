import ContainerCore
import FoundationEssentials
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

extension GvisorBackend {
    /// `exec`: the process is built as native builds it (the container's process and
    /// runc's flags, ExecOptions) and handed to `runsc exec --process`, so runc's exec
    /// flags mean what they mean under runc, whatever runsc's own exec flags are.
    func exec(_ record: ContainerRecord, options: ExecOptions) throws -> Int32 {
        // Every process of a gvisor sandbox lives in runsc's cgroup: none can be
        // placed in a sub-cgroup of it from here.
        if !options.subCgroups.isEmpty {
            throw RuntimeError("--cgroup: not supported by the gvisor backend (the sandbox's processes share its cgroup)")
        }
        // A frozen sandbox cannot start the process: no --ignore-paused here.
        try state(of: record).status.canExec(ignorePaused: nil)
        if options.preserveFds != 0 { throw RuntimeError("--preserve-fds: not supported by the gvisor backend (runsc exec cannot pass extra descriptors)") }
        let (_, process, _) = try runtime.execProcess(of: record, options: options)
        try runtime.admitExec(process, of: record, options: options)
        let file = store.directory(of: record.id) + "/exec-\(getpid()).json"
        try Files.writeAtomically(file, process.compactJSON(), mode: 0o600)
        defer { try? Files.remove(file) }
        var args = ["exec", "--process", file]
        if options.detach { args.append("--detach") }
        // runsc writes the pid file once the process has started, and exits 128 on
        // any failure of its own: a 128 with no pid file is exec itself failing, which
        // runc (and engines relying on it) report as 255. Without a pid file asked
        // for, one of our own tells the two apart.
        let pidFile = options.pidFile.map(Bundle.absolute) ?? store.directory(of: record.id) + "/exec-\(getpid()).pid"
        try? Files.remove(pidFile)
        defer { if options.pidFile == nil { try? Files.remove(pidFile) } }
        args += ["--pid-file", pidFile]
        if let socket = options.consoleSocket { args += ["--console-socket", socket] }
        args.append(record.id)
        // Attached: our stdio is the process's, our exit code its; signals to us go
        // to runsc exec, which passes them to the process.
        let waited = ContainerRuntime.forwardedSignals + [SIGCHLD]
        Signals.block(waited)
        let child = try runsc(record, args).spawn()
        let status = runtime.waitForInit(child, forwarding: waited)
        if status.shellCode == 128, !Files.exists(pidFile) { return 255 }
        return status.shellCode
    }
}
