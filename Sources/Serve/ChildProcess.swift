import CServe
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A process the service starts (`safehouse ...`), reaped by `waitpid` on the caller's
/// thread. Not Foundation's `Process`: it learns that a child has exited from a socket
/// the child inherits, so a child that leaves a process of its own holding that socket
/// (`run` under gVisor leaves runsc's sandbox and gofer) is never reported as done and
/// stays a zombie; and its `waitUntilExit()` spins the run loop in 50 ms slices (54 ms
/// for `/bin/true` against 5 ms with `waitpid`, on every runtime call and command).
struct ChildProcess {
    let pid: pid_t

    /// Starts `executable` with `arguments`, the service's environment and the given
    /// descriptors as its stdin, stdout and stderr; no other descriptor is inherited.
    static func start(_ executable: String, _ arguments: [String], stdin: Int32, stdout: Int32, stderr: Int32) throws -> ChildProcess {
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        let pid = argv.withUnsafeBufferPointer { serve_spawn(executable, $0.baseAddress, stdin, stdout, stderr) }
        guard pid > 0 else { throw APIError.internalError("spawn \(executable): \(String(cString: strerror(errno)))") }
        return ChildProcess(pid: pid)
    }

    /// Blocks until the process has exited, leaving it unreaped: until `wait()`, its pid
    /// is not given to another process, so a kill racing with the exit hits nothing else.
    func waitForExit() {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0, errno == EINTR {}
    }

    /// Waits for the process to exit and reaps it: its exit status, or 128 + the signal
    /// that ended it.
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return 255 }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// /dev/null, close-on-exec (a child's stdin when there is no input).
    static func devNull() throws -> Int32 {
        let fd = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw APIError.internalError("open /dev/null: \(String(cString: strerror(errno)))") }
        return fd
    }

    /// A pipe, both ends close-on-exec: (read, write).
    static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard Glibc.pipe(&fds) == 0 else { throw APIError.internalError("pipe: \(String(cString: strerror(errno)))") }
        // serve_spawn closes every descriptor above 2 in the child anyway; this keeps
        // them from anything else the process might start.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }
}
