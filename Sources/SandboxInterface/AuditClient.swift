import AuditChain
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The one audit client: how the CLI (a sandbox's lifecycle records) and the warden
/// (its egress decisions and the init's exit) append to a sandbox's hash-chained log,
/// in their own process through AuditChain (plain-Swift SHA-256 and HMAC, no
/// Foundation), and how `safehouse audit|hook` find `safehouse-audit`, the executable
/// that reads the log (verify, show: Foundation's JSON).
public struct AuditClient: Sendable {
    /// `safehouse-audit`, or nil when there is none next to the running executable.
    public let executable: String?

    public init(executable: String? = Processes.siblingExecutable("safehouse-audit")) {
        self.executable = executable
    }

    /// One record to append: its kind and its details (a JSON object; written canonical).
    public struct Record: Equatable, Sendable {
        public var kind: String
        public var details: String
        public init(kind: String, details: String) {
            self.kind = kind
            self.details = details
        }
    }

    /// Why the records were not appended, in one line.
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Appends `records` of sandbox `log.id` in one write; nil when they are in the log.
    /// `lockedFD`: the log, opened O_APPEND and already under its exclusive flock (the
    /// CLI takes the lock before it hands an append to a child, so its records keep
    /// their order); closed here either way. Without it the log's lock is taken here.
    public static func append(_ records: [Record], to log: AuditDestination, lockedFD: Int32? = nil) -> Failure? {
        let key: AuditKey?
        do { key = try log.key.map(AuditLog.readKey) } catch {
            if let lockedFD { close(lockedFD) }
            return Failure("\(error)")
        }
        // AuditLog.append closes lockedFD, whether it writes or throws.
        do {
            try AuditLog(path: log.path, key: key).append(id: log.id, detailTexts: records.map { (kind: $0.kind, details: $0.details) },
                                                          lockedFD: lockedFD)
        } catch {
            return Failure("\(error)")
        }
        return nil
    }
}
