import ContainerCore
import Linux
import OCI
import Seccomp
#if canImport(Glibc)
import Glibc
#endif

/// Installing a compiled seccomp filter in the init or an exec'd process, and getting
/// a notify listener's descriptor to the runtime.
enum SeccompLoading {
    /// Compiles `profile` (none: no filter), its error as the runtime's.
    static func compile(_ profile: LinuxSeccomp?) throws -> SeccompProgram? {
        guard let profile else { return nil }
        do { return try SeccompProgram.compile(profile) } catch { throw RuntimeError("\(error)") }
    }

    /// Loads the container's filter, then the provider's in the same step (each call
    /// must then pass both), each failure named by its filter.
    static func install(_ seccomp: SeccompProgram?, added: SeccompProgram?, channel: SyncChannel) throws {
        if let seccomp {
            try stage("seccomp") { try install(seccomp, channel: channel) }
        }
        if let added {
            try stage("seccomp (policy)") { try install(added, channel: channel) }
        }
    }

    /// Loads `program`; with SCMP_ACT_NOTIFY rules the notify descriptor goes to the
    /// runtime over `channel` (it forwards it to the listener), then closes here.
    static func install(_ program: SeccompProgram, channel: SyncChannel) throws {
        let notify: Int32?
        do { notify = try program.load() } catch { throw RuntimeError("\(error)") }
        guard let notify else { return }
        let fd = FileDescriptor(adopting: notify)
        try channel.send(.seccompListenerFollows)
        try channel.socket.sendDescriptor(fd, payload: [0])
        fd.close()
    }

    /// Runtime side: receives the notify descriptor and hands it to the listener at
    /// `listenerPath` with the container's state, as runc does.
    static func forwardListener(_ program: SeccompProgram, channel: SyncChannel, pid: Int32, stateJSON: String) throws {
        let fd = try channel.socket.receiveDescriptor()
        defer { fd.close() }
        guard let path = program.listenerPath else {
            throw RuntimeError("linux.seccomp.listenerPath: a notify rule needs a listener")
        }
        let state = SeccompProgram.containerProcessState(ociVersion: specVersion, pid: pid,
                                                         metadata: program.listenerMetadata, stateJSON: Array(stateJSON.utf8))
        do {
            try SeccompProgram.sendNotifyFD(fd.rawValue, to: path, state: state)
        } catch {
            // The error names the field and the path.
            throw RuntimeError("\(error)")
        }
    }
}
