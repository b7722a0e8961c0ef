import ContainerCore
import FoundationEssentials
import Linux
import OCI
import Seccomp
#if canImport(Glibc)
import Glibc
#endif

extension NativeBackend {
    /// `exec`: starts another process in a created or running container, in all its
    /// namespaces and cgroups; attached, returns its exit code (128 + signal).
    func exec(_ record: ContainerRecord, options: ExecOptions) throws -> Int32 {
        let id = record.id
        try status(of: record).canExec(ignorePaused: options.ignorePaused)
        let (config, process, overlay) = try runtime.execProcess(of: record, options: options)
        let cgroupPaths = try ExecSubCgroups.resolve(options.subCgroups, containerPaths: record.cgroupPaths, layout: .host())
        try runtime.admitExec(process, of: record, options: options)
        if options.preserveFds < 0 { throw RuntimeError("--preserve-fds must not be negative") }
        // The container's filter applies to every process in it (runc does the same).
        let seccomp = try SeccompLoading.compile(config.linux?.seccomp)
        let addedSeccomp = try SeccompLoading.compile(overlay?.addedSeccomp)

        // The container's namespaces, as the init holds them; only those that differ
        // from ours are joined (a container may share the host's network, say).
        var joins: [(kind: NamespaceKind, fd: FileDescriptor, path: String)] = []
        var pidNamespace: FileDescriptor?
        var pidPath = ""
        for kind in NamespaceKind.allCases where kind != .time {
            let path = "/proc/\(record.pid)/ns/\(kind.procName)"
            guard let theirs = Namespaces.identity(of: kind, pid: record.pid),
                  theirs != (try? Files.readLink("/proc/self/ns/\(kind.procName)")) else { continue }
            let fd = try stage("container \(id)") { try FileDescriptor.open(path, O_RDONLY) }
            if kind == .pid { pidNamespace = fd; pidPath = path } else { joins.append((kind, fd, path)) }
        }

        let attached = !options.detach
        let waited = ContainerRuntime.forwardedSignals + [SIGCHLD]
        if attached { Signals.block(waited) }
        var consoleEnds: (FileDescriptor, FileDescriptor)?
        var console: FileDescriptor?
        if process.terminal ?? false {
            if let path = options.consoleSocket {
                console = try stage("--console-socket \(path)") { try Sockets.connect(unixPath: path) }
            } else {
                consoleEnds = try Sockets.seqpacketPair()
                console = consoleEnds?.1
            }
        }
        let (parentEnd, childEnd) = try Sockets.seqpacketPair()
        let child = ExecProcess(
            process: process, namespaces: joins, cgroupPaths: cgroupPaths,
            channel: SyncChannel(socket: childEnd), consoleSocket: console,
            preserveFds: options.preserveFds, userNamespace: joins.contains { $0.kind == .user },
            seccomp: seccomp, addedSeccomp: addedSeccomp)

        // Not dumpable from the fork on: the child is in the container's pid namespace
        // the moment it exists, and a prctl in the child would leave a window between
        // fork and prctl in which a container process could ptrace it or open its
        // /proc/PID/exe (the runtime's binary). The flag is inherited; execve resets it.
        try stage("prctl(PR_SET_DUMPABLE, 0)") { try ProcessControl.setDumpable(false) }
        // A pid namespace applies to our next child only: switch, fork, switch back.
        var restore: FileDescriptor?
        if let pidNamespace {
            restore = try FileDescriptor.open("/proc/self/ns/pid", O_RDONLY)
            try stage("join pid namespace \(pidPath)") { try Namespaces.join(pidNamespace, kind: .pid, path: pidPath) }
        }
        // Born in the container's v2 cgroup where the kernel can (the directory with
        // cgroup.procs and no v1 `tasks` file); if it cannot be opened, the child joins
        // it and reports what failed.
        let v2Path = cgroupPaths.first { !Files.exists($0 + "/tasks") && Files.exists($0 + "/cgroup.procs") }
        let v2Directory = v2Path.flatMap { try? FileDescriptor.open($0, O_RDONLY | O_DIRECTORY) }
        defer { v2Directory?.close() }
        let (pid, bornInV2) = try Processes.fork(preferringCgroup: v2Directory)
        if pid == 0 {
            parentEnd.close()
            child.run(bornIn: bornInV2 ? v2Path : nil)
        }
        if let restore { try Namespaces.join(restore, kind: .pid, path: "/proc/self/ns/pid") }
        childEnd.close()
        consoleEnds?.1.close()
        if options.consoleSocket != nil { console?.close() }

        // End of file: the program was exec'd. A message: it failed before that.
        try killedOnFailure(pid) {
            while true {
                let bytes = try parentEnd.receiveMessage()
                guard !bytes.isEmpty, let message = SyncMessage(decoding: bytes) else { break }
                if case .failure(let text) = message { throw RuntimeError(text) }
                if message == .seccompListenerFollows, let seccomp {
                    try SeccompLoading.forwardListener(seccomp, channel: SyncChannel(socket: parentEnd), pid: pid,
                                                       stateJSON: try runtime.stateJSON(record, status: .running))
                }
            }
            // Nothing half made: a process nobody can find by its pid file goes (runc
            // terminates it too).
            if let pidFile = options.pidFile { try Bundle.writePidFile(pidFile, pid: pid) }
        }
        guard attached else { return 0 }
        let proxy = try consoleEnds.map { TerminalProxy(master: try $0.0.receiveDescriptor()) }
        return try runtime.waitForInit(pid, forwarding: waited, relaying: proxy).shellCode
    }
}
