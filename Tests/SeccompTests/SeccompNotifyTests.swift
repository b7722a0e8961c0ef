import CLinux
import CSeccomp
import Linux
import OCI
import Seccomp
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// SCMP_ACT_NOTIFY end to end: a child loads the filter and sends the notify fd to a
/// listener process over a Unix socket, as the runtime does with listenerPath; the
/// listener answers the notified call through libseccomp, and the child sees the answer.
final class SeccompNotifyTests: XCTestCase {
    /// A listening SOCK_STREAM socket at `path`.
    private func listen(at path: String) throws -> FileDescriptor {
        unlink(path)
        let fd = FileDescriptor(adopting: socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0))
        XCTAssertGreaterThanOrEqual(fd.rawValue, 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let size = socklen_t(MemoryLayout<sockaddr_un>.size)
        try syscall("bind", path) {
            withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd.rawValue, $0, size) } }
        }
        try syscall("listen", path) { Glibc.listen(fd.rawValue, 1) }
        return fd
    }

    /// The pid in a container process state, by hand: the listener checks that the
    /// notified call came from the process the state names.
    private static func pid(inState text: String) -> UInt32? {
        guard let range = text.range(of: "\"pid\":") else { return nil }
        return UInt32(text[range.upperBound...].prefix { $0.isNumber })
    }

    func testTheListenerReceivesTheFdAndAnswersTheCall() throws {
        let path = "/tmp/safehouse-seccomp-test-\(getpid()).sock"
        defer { unlink(path) }
        let program = try SeccompProgram.compile(LinuxSeccomp(
            defaultAction: .allow,
            flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
            listenerPath: path,
            listenerMetadata: "agent-metadata",
            syscalls: [LinuxSyscall(names: ["getppid"], action: .notify)]
        ))
        XCTAssertTrue(program.usesNotify)
        let listening = try listen(at: path)
        let getppidNumber = seccomp_syscall_resolve_name("getppid")

        // The listener: one connection, one fd, one notification answered with 4242.
        let listener = try ChildProcess.start {
            let connection = accept(listening.rawValue, nil, nil)
            guard connection >= 0 else { return 10 }
            var payload = [UInt8](repeating: 0, count: 4096)
            var length = payload.count
            let fd = payload.withUnsafeMutableBytes { sh_recv_fd(connection, $0.baseAddress, &length) }
            guard fd >= 0 else { return 11 }
            let state = String(decoding: payload[0..<length], as: UTF8.self)
            guard state.contains("\"metadata\":\"agent-metadata\""), state.contains("\"fds\":[\"seccompFd\"]"),
                  let sender = Self.pid(inState: state) else { return 12 }
            var request: UnsafeMutablePointer<seccomp_notif>?
            var response: UnsafeMutablePointer<seccomp_notif_resp>?
            guard seccomp_notify_alloc(&request, &response) == 0, let request, let response else { return 13 }
            guard seccomp_notify_receive(fd, request) == 0 else { return 14 }
            guard request.pointee.data.nr == getppidNumber else { return 15 }
            guard request.pointee.pid == sender else { return 16 }
            response.pointee.id = request.pointee.id
            response.pointee.val = 4242
            response.pointee.error = 0
            response.pointee.flags = 0
            guard seccomp_notify_respond(fd, response) == 0 else { return 17 }
            return 0
        }

        // The container process: load, hand the fd over, then make the notified call.
        let container = try ChildProcess.run {
            let fd: Int32
            do {
                guard let notify = try program.load() else { return 20 }
                fd = notify
            } catch { return ChildProcess.loadFailed }
            let state = SeccompProgram.containerProcessState(
                ociVersion: "1.2.0", pid: getpid(), metadata: program.listenerMetadata,
                stateJSON: Array("{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"running\"}".utf8))
            do { try SeccompProgram.sendNotifyFD(fd, to: path, state: state) } catch { return 21 }
            // Only the listener's copy stays: were it to die, the call fails with ENOSYS
            // instead of waiting forever.
            close(fd)
            return getppid() == 4242 ? 0 : 22
        }
        listening.close()
        XCTAssertEqual(container, .exited(0), "container process")
        XCTAssertEqual(try Processes.wait(listener), .exited(0), "listener")
    }

    func testSendingToAMissingListenerNamesTheField() {
        XCTAssertThrowsError(try SeccompProgram.sendNotifyFD(0, to: "/nonexistent/listener.sock", state: [])) { error in
            XCTAssertEqual((error as? SeccompError)?.field, "linux.seccomp.listenerPath")
        }
    }
}
