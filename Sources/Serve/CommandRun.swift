import Foundation
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// One command in a sandbox: a `safehouse exec` whose stdout and stderr are read as
/// they come and handed on, with a timeout and a stop for a client that went away.
final class CommandRun: @unchecked Sendable {
    enum Stream: String { case stdout, stderr }
    struct Exit { var code: Int32; var timedOut: Bool }

    private let executable: String
    private let arguments: [String]
    private var pid: pid_t = 0
    private let stdin: Data?
    private let pidFile: String
    private let timeout: TimeInterval
    private let onOutput: (Stream, Data) -> Void
    private let onExit: (Exit) -> Void
    private let lock = NIOLock()
    private var exited = false
    private var timedOut = false

    /// After the exec exits, how long output is still read: a process the command left
    /// in the background may hold the pipes open.
    static let drainGrace: TimeInterval = 0.5

    /// The runtime's argv that kills the command inside a gVisor sandbox (nil: native).
    private let stopInside: [String]?

    init(executable: String, arguments: [String], pidFile: String, stdin: Data?, timeout: TimeInterval,
         stopInside: [String]? = nil, onOutput: @escaping (Stream, Data) -> Void, onExit: @escaping (Exit) -> Void) {
        self.executable = executable
        self.stopInside = stopInside
        self.arguments = arguments
        self.stdin = stdin
        self.pidFile = pidFile
        self.timeout = timeout
        self.onOutput = onOutput
        self.onExit = onExit
    }

    func start() throws {
        let out = try ChildProcess.pipe()
        let err: (read: Int32, write: Int32)
        do { err = try ChildProcess.pipe() } catch { close(out.read); close(out.write); throw error }
        var input: (read: Int32, write: Int32)
        do { input = stdin == nil ? (try ChildProcess.devNull(), -1) : try ChildProcess.pipe() } catch {
            for fd in [out.read, out.write, err.read, err.write] { close(fd) }
            throw error
        }
        let child: ChildProcess
        do {
            child = try ChildProcess.start(executable, arguments, stdin: input.read, stdout: out.write, stderr: err.write)
        } catch {
            for fd in [out.read, out.write, err.read, err.write, input.read, input.write] where fd >= 0 { close(fd) }
            throw error
        }
        // The child has its copies: the service keeps only the ends it reads and writes.
        close(out.write)
        close(err.write)
        close(input.read)
        lock.withLock { pid = child.pid }
        let group = DispatchGroup()
        for (fd, stream) in [(out.read, Stream.stdout), (err.read, Stream.stderr)] {
            group.enter()
            Thread.detachNewThread { [self] in
                read(fd, stream)
                close(fd)
                group.leave()
            }
        }
        if let stdin {
            let fd = input.write
            Thread.detachNewThread {
                stdin.withUnsafeBytes { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                        if n < 0 { if errno == EINTR { continue } else { break } }
                        offset += n
                    }
                }
                close(fd)
            }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [self] in
            let running = lock.withLock { () -> Bool in
                if !exited { timedOut = true }
                return !exited
            }
            if running { stop() }
        }
        Thread.detachNewThread { [self] in
            child.waitForExit()
            lock.withLock { exited = true }
            let code = child.wait()
            group.wait()
            unlink(pidFile)
            let timedOut = lock.withLock { self.timedOut }
            onExit(Exit(code: timedOut ? 124 : code, timedOut: timedOut))
        }
    }

    /// Ends the command: SIGKILL to its process group in the sandbox (the exec'd process
    /// leads its own session and group, so what it started in the background goes too;
    /// under gVisor, every process with the command's mark, GvisorCommandMark), then
    /// SIGTERM to `safehouse exec`, SIGKILL two seconds later if it is still there.
    /// Returns at once (it may be called on the event loop).
    func stop() {
        if let stopInside {
            DispatchQueue.global().async { [self] in
                GvisorCommandMark.run(executable, stopInside)
                stopExec()
            }
            return
        }
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
           let group = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), group > 1 {
            kill(-group, SIGKILL)
        }
        stopExec()
    }

    private func stopExec() {
        let (running, pid) = lock.withLock { (!exited, self.pid) }
        guard running, pid > 0 else { return }
        kill(pid, SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + 2) { [self] in
            if lock.withLock({ !exited }) { kill(pid, SIGKILL) }
        }
    }

    /// Reads `fd` until EOF, or until the exec has exited and the grace has passed.
    private func read(_ fd: Int32, _ stream: Stream) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var exitSeen: Date?
        while true {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 100)
            if ready < 0 { if errno == EINTR { continue } else { return } }
            if ready == 0 {
                if lock.withLock({ exited }) {
                    if let seen = exitSeen {
                        if Date().timeIntervalSince(seen) > Self.drainGrace { return }
                    } else {
                        exitSeen = Date()
                    }
                }
                continue
            }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue } else { return } }
            if n == 0 { return }
            onOutput(stream, Data(buffer[0..<n]))
        }
    }
}
