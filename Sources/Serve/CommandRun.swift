import Foundation
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// One command in a sandbox: a `safehouse exec` whose stdout and stderr are read as
/// they come and handed on, with an optional timeout, a stdin that may stay open for
/// later writes, and a stop.
final class CommandRun: @unchecked Sendable {
    enum Stream: String { case stdout, stderr }
    struct Exit { var code: Int32; var timedOut: Bool }

    /// What the command's stdin is.
    enum Input {
        /// /dev/null.
        case none
        /// These bytes, then end of file.
        case bytes(Data)
        /// A pipe kept open for `writeInput` (after these first bytes) until `closeInput`.
        case open(Data)
    }

    private let executable: String
    private let arguments: [String]
    /// `safehouse exec`'s pid, once spawned.
    private var pid: pid_t = 0
    private let input: Input
    private let pidFile: String
    private let timeout: TimeInterval?
    private let onOutput: (Stream, Data) -> Void
    private let onExit: (Exit) -> Void
    private let lock = NIOLock()
    private var exited = false
    private var timedOut = false
    /// The stdin pipe's write end while it is open; writes go through `inputQueue` in
    /// order, so a command that does not read blocks that queue, never a caller.
    private var inputHandle: FileHandle?
    private let inputQueue = DispatchQueue(label: "safehouse-serve.stdin")
    /// The command's host pid (from the pid file) and its pid in the sandbox, once read.
    private var hostPid: Int32?
    private var innerPid: Int32?

    /// After the exec exits, how long output is still read: a process the command left
    /// in the background may hold the pipes open.
    static let drainGrace: TimeInterval = 0.5

    /// The runtime's argv that kills the command inside a gVisor sandbox (nil: native).
    private let stopInside: [String]?

    init(executable: String, arguments: [String], pidFile: String, input: Input, timeout: TimeInterval?,
         stopInside: [String]? = nil, onOutput: @escaping (Stream, Data) -> Void, onExit: @escaping (Exit) -> Void) {
        self.executable = executable
        self.arguments = arguments
        self.stopInside = stopInside
        self.input = input
        self.pidFile = pidFile
        self.timeout = timeout
        self.onOutput = onOutput
        self.onExit = onExit
    }

    func start() throws {
        // Every descriptor is closed explicitly, not left to deallocation: left to it,
        // the pipes of every finished command stayed open in the service (measured).
        let out = try ChildProcess.pipe()
        let err: (read: Int32, write: Int32)
        do { err = try ChildProcess.pipe() } catch { close(out.read); close(out.write); throw error }
        let stdin: (read: Int32, write: Int32)
        do {
            if case .none = input { stdin = (try ChildProcess.devNull(), -1) } else { stdin = try ChildProcess.pipe() }
        } catch {
            for fd in [out.read, out.write, err.read, err.write] { close(fd) }
            throw error
        }
        let child: ChildProcess
        do {
            child = try ChildProcess.start(executable, arguments, stdin: stdin.read, stdout: out.write, stderr: err.write)
        } catch {
            for fd in [out.read, out.write, err.read, err.write, stdin.read, stdin.write] where fd >= 0 { close(fd) }
            throw error
        }
        // The child has its copies: the parent's ends it does not use are closed now, so
        // EOF and EPIPE come when the command's side goes.
        close(out.write)
        close(err.write)
        close(stdin.read)
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
        if stdin.write >= 0 {
            lock.withLock { inputHandle = FileHandle(fileDescriptor: stdin.write, closeOnDealloc: false) }
            switch input {
            case .bytes(let data):
                writeInput(data)
                closeInput()
            case .open(let data):
                if !data.isEmpty { writeInput(data) }
            case .none: break
            }
        }
        if let timeout {
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [self] in
                let running = lock.withLock { () -> Bool in
                    if !exited { timedOut = true }
                    return !exited
                }
                if running { stop() }
            }
        }
        Thread.detachNewThread { [self] in
            // Exited but not yet reaped: until wait(), its pid is not given to another
            // process, so a stop racing with the exit kills nothing else.
            child.waitForExit()
            lock.withLock { exited = true }
            let code = child.wait()
            group.wait()
            _ = sandboxPid()
            unlink(pidFile)
            closeInput()
            let timedOut = lock.withLock { self.timedOut }
            onExit(Exit(code: timedOut ? 124 : code, timedOut: timedOut))
        }
    }

    /// Whether stdin still takes writes.
    var inputIsOpen: Bool { lock.withLock { inputHandle != nil } }

    /// Queues `data` for the command's stdin; false when stdin is closed.
    @discardableResult
    func writeInput(_ data: Data) -> Bool {
        guard let handle = lock.withLock({ inputHandle }) else { return false }
        inputQueue.async {
            // EPIPE (the command closed its stdin or is gone) is dropped: SIGPIPE is
            // ignored in this process, and the write's failure is the end of it.
            try? handle.write(contentsOf: data)
        }
        return true
    }

    /// Closes stdin (after what was queued): the command reads end of file.
    func closeInput() {
        guard let handle = lock.withLock({ () -> FileHandle? in defer { inputHandle = nil }; return inputHandle }) else { return }
        inputQueue.async { close(handle.fileDescriptor) }
    }

    /// The command's pid inside the sandbox (the last NSpid of its host pid), nil until
    /// `safehouse exec` has written its pid file, or when it was gone before it was read.
    func sandboxPid() -> Int32? {
        if let inner = lock.withLock({ innerPid }) { return inner }
        guard let host = self.host() else { return nil }
        guard let status = try? String(contentsOfFile: "/proc/\(host)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("NSpid:") }),
              let last = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).last,
              let inner = Int32(last) else { return nil }
        lock.withLock { innerPid = inner }
        return inner
    }

    /// The host pid `safehouse exec` wrote (the leader of the command's process group).
    private func host() -> Int32? {
        if let pid = lock.withLock({ hostPid }) { return pid }
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1 else { return nil }
        lock.withLock { hostPid = pid }
        return pid
    }

    /// Ends the command: SIGKILL to its process group in the sandbox (the exec'd process
    /// leads its own session and group, so what it started in the background goes too),
    /// then SIGTERM to `safehouse exec`, SIGKILL two seconds later if it is still there.
    /// Returns at once: the group is known from the pid file, which `safehouse exec`
    /// may write after the command has started (and printed), so it is waited for (up
    /// to a second) on another thread. Under gVisor, every process with the command's
    /// mark is killed inside the sandbox instead (GvisorCommandMark).
    func stop() {
        DispatchQueue.global().async { [self] in
            if let stopInside {
                GvisorCommandMark.run(executable, stopInside)
                stopExec()
                return
            }
            var group = host()
            var waited = 0
            while group == nil, waited < 20, lock.withLock({ !exited }) {
                usleep(50_000)
                waited += 1
                group = host()
            }
            if let group, lock.withLock({ !exited }) { kill(-group, SIGKILL) }
            stopExec()
        }
    }

    /// SIGTERM to `safehouse exec`, SIGKILL two seconds later if it is still there.
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
