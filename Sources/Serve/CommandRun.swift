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

    private let process = Process()
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

    init(executable: String, arguments: [String], pidFile: String, stdin: Data?, timeout: TimeInterval,
         onOutput: @escaping (Stream, Data) -> Void, onExit: @escaping (Exit) -> Void) {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        self.stdin = stdin
        self.pidFile = pidFile
        self.timeout = timeout
        self.onOutput = onOutput
        self.onExit = onExit
    }

    func start() throws {
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        let processExited = try process.start()
        let group = DispatchGroup()
        for (pipe, stream) in [(out, Stream.stdout), (err, Stream.stderr)] {
            group.enter()
            // Every end is closed explicitly: left to deallocation, the pipes of every
            // finished command stayed open in the service (measured).
            try? pipe.fileHandleForWriting.close()
            Thread.detachNewThread { [self] in
                read(pipe.fileHandleForReading.fileDescriptor, stream)
                try? pipe.fileHandleForReading.close()
                group.leave()
            }
        }
        try? input.fileHandleForReading.close()
        if stdin == nil { try? input.fileHandleForWriting.close() }
        if let stdin {
            Thread.detachNewThread {
                let handle = input.fileHandleForWriting
                try? handle.write(contentsOf: stdin)
                try? handle.close()
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
            processExited.wait()
            lock.withLock { exited = true }
            group.wait()
            unlink(pidFile)
            let status = process.terminationStatus
            let code = process.terminationReason == .uncaughtSignal ? 128 + status : status
            onExit(Exit(code: lock.withLock { timedOut } ? 124 : code, timedOut: lock.withLock { timedOut }))
        }
    }

    /// Ends the command: SIGKILL to its process group in the sandbox (the exec'd process
    /// leads its own session and group, so what it started in the background goes too),
    /// then SIGTERM to `safehouse exec`, SIGKILL two seconds later if it is still there.
    func stop() {
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
           let group = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), group > 1 {
            kill(-group, SIGKILL)
        }
        guard lock.withLock({ !exited }) else { return }
        let pid = process.processIdentifier
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
