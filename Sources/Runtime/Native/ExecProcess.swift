import ContainerCore
import Cgroups
import Linux
import OCI
import Seccomp
#if canImport(Glibc)
import Glibc
#endif

/// The process `exec` starts inside a running container, from its fork to execve.
///
/// Like the container's init it runs in a child forked from the single-threaded
/// runtime. It joins the container's cgroups (while it still sees the host's cgroup
/// tree), then its namespaces — user first (it grants the capabilities the others
/// need), mount last (it changes the root) — and then applies the process's own
/// limits, identity, capabilities and no_new_privs exactly as the init does.
struct ExecProcess {
    let process: OCI.Process
    let namespaces: [(kind: NamespaceKind, fd: FileDescriptor, path: String)]
    let cgroupPaths: [String]
    let channel: SyncChannel
    let consoleSocket: FileDescriptor?
    let preserveFds: Int
    let userNamespace: Bool
    /// The container's seccomp filter, compiled by the runtime.
    let seccomp: SeccompProgram?
    /// The sandbox provider's filter, loaded after it (SandboxOverlay.addedSeccomp).
    var addedSeccomp: SeccompProgram? = nil

    /// `bornIn`: the cgroup directory the process was forked into (clone3
    /// CLONE_INTO_CGROUP), which it need not join.
    func run(bornIn: String? = nil) -> Never {
        do {
            try setUp(bornIn: bornIn)
        } catch {
            try? channel.send(.failure("\(error)"))
            _exit(1)
        }
    }

    private func setUp(bornIn: String?) throws -> Never {
        // Not dumpable until the exec: the container's processes see this one as soon
        // as it is forked into their pid namespace, and must not reach the host's
        // binary through /proc/<this>/exe (CVE-2019-5736). execve resets it.
        try stage("prctl(PR_SET_DUMPABLE, 0)") { try ProcessControl.setDumpable(false) }
        // A v1 hierarchy is joined by moving this (only) thread: "0" to `tasks`, which
        // takes no global lock; a v2 one by pid, unless the fork put us there already
        // (see ContainerRuntime.createContainer: a move by pid waits for an RCU grace
        // period).
        let me = String(getpid())
        for path in cgroupPaths where path != bornIn {
            try stage("join cgroup \(path)") {
                if Files.exists(path + "/tasks") {
                    try Files.write(path + "/tasks", "0", flags: O_WRONLY)
                } else {
                    try Files.write(path + "/cgroup.procs", me, flags: O_WRONLY)
                }
            }
        }
        // The user namespace last, as the intermediate process does at create: joined
        // first, it would leave no privilege over namespaces the host's user namespace
        // owns (a pod's network namespace, made by the engine, in a policy's container).
        let order: [NamespaceKind] = [.ipc, .uts, .network, .cgroup, .mount, .user]
        for kind in order {
            for ns in namespaces where ns.kind == kind {
                try stage("join \(kind.rawValue) namespace \(ns.path)") {
                    try Namespaces.join(ns.fd, kind: kind, path: ns.path)
                }
            }
        }
        _ = setsid()
        if process.terminal ?? false {
            try stage("console") { try Console.setUp(socket: consoleSocket, size: process.consoleSize, bindConsole: false) }
        }
        let identity = ProcessSetup(process: process, userNamespace: userNamespace)
        try identity.applyLimits()
        let executable = try identity.resolveExecutable()
        let environment = identity.environment()
        try identity.closeInheritedDescriptors(keeping: preserveFds, plus: [channel.socket])
        // Without no_new_privs loading a filter needs the capabilities the user switch
        // drops: before it; with it, last.
        let nnp = process.noNewPrivileges ?? false
        if !nnp { try SeccompLoading.install(seccomp, added: addedSeccomp, channel: channel) }
        try identity.switchUser()
        Signals.resetForExec()
        if nnp { try SeccompLoading.install(seccomp, added: addedSeccomp, channel: channel) }
        // On success the channel closes with the exec (close-on-exec): the runtime
        // reads end of file and knows the program runs.
        let err = Processes.exec(path: executable, args: process.args ?? [], env: environment)
        try? channel.send(.failure("exec \(executable): \(SystemError.message(for: err.errno))"))
        _exit(127)
    }
}
