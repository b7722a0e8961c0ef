import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The one way safehouse finds and runs `safehouse-audit`, the executable that reads
/// the hash-chained audit log (`safehouse audit|hook` exec it) and that the warden
/// runs to append its egress decisions and the init's exit (AuditAppender says why the
/// warden does not append in its own process). The CLI appends a sandbox's lifecycle
/// records itself (AuditChain).
public struct AuditClient: Sendable {
    /// `safehouse-audit`, or nil when there is none next to the running executable.
    public let executable: String?

    public init(executable: String? = Processes.siblingExecutable("safehouse-audit")) {
        self.executable = executable
    }

    /// One record to append: its kind and its details (a canonical JSON object).
    public struct Record: Equatable, Sendable {
        public var kind: String
        public var details: String
        public init(kind: String, details: String) {
            self.kind = kind
            self.details = details
        }
    }

    /// Why safehouse-audit could not be run, or what it said when it refused.
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// `safehouse-audit audit append LOG --id ID (--kind K --details D)... [--key FILE]`.
    static func appendArguments(_ records: [Record], to log: AuditDestination) -> [String] {
        var args = ["safehouse-audit", "audit", "append", log.path, "--id", log.id]
        for r in records { args += ["--kind", r.kind, "--details", r.details] }
        if let key = log.key { args += ["--key", key] }
        return args
    }

    /// Appends `records` and waits; safehouse-audit takes the log's lock itself. For a
    /// threaded caller (the warden): posix_spawn, none of its descriptors past stderr.
    public func append(_ records: [Record], to log: AuditDestination) -> Failure? {
        guard let executable else { return Failure("no safehouse-audit") }
        return run(executable, Self.appendArguments(records, to: log))
    }

    /// Runs `args` and waits; nil on success, else the appender's first error line
    /// (or why it did not run).
    func run(_ executable: String, _ args: [String]) -> Failure? {
        let errorEnds: (FileDescriptor, FileDescriptor)
        do { errorEnds = try FileDescriptor.pipe() } catch { return Failure("\(error)") }
        defer { errorEnds.0.close() }
        let started = Spawn.start(executable, args, stdio: .quiet(stderr: errorEnds.1.rawValue))
        errorEnds.1.close()
        let pid: pid_t
        switch started {
        case .success(let p): pid = p
        case .failure(let e): return Failure("spawn \(executable): \(SystemError.message(for: e.errno))")
        }
        var errorText: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1024)
        while errorText.count < 4096 {
            let n = buf.withUnsafeMutableBytes { read(errorEnds.0.rawValue, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            errorText += buf[0..<n]
        }
        let status: Int32
        switch Spawn.wait(pid) {
        case .success(let s): status = s
        case .failure(let e): return Failure("waitpid: \(SystemError.message(for: e.errno))")
        }
        if status == 0 { return nil }
        let line = String(decoding: errorText, as: UTF8.self).split(separator: "\n").first.map(String.init)
        return Failure(line ?? "safehouse-audit exited with status \(status >> 8)")
    }
}
