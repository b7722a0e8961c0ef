import OCI
#if canImport(Glibc)
import Glibc
#endif

/// A sandbox's egress so far, as its audit log tells it: the warden appends one
/// `egress` record per decision, when the connection it allowed has ended (so bytes
/// of a connection still open are not in it yet) or at once when it refused one.
public struct EgressTally: Sendable, Equatable {
    public var allowed: UInt64 = 0
    /// Refused, and allowed connections that failed (the summary's "refused or failed").
    public var refused: UInt64 = 0
    /// Bytes from the sandbox to the destinations, and back.
    public var bytesUp: UInt64 = 0
    public var bytesDown: UInt64 = 0
    /// Records that carried no byte counts (a warden that does not write them): the
    /// bytes above leave those connections out.
    public var recordsWithoutBytes: UInt64 = 0
    /// The warden stopped writing decisions at its cap (AuditAppender.decisionLimit):
    /// the counts are a floor.
    public var capped = false

    public init() {}

    public var decisions: UInt64 { allowed + refused }
}

/// Counts egress records of one audit log incrementally: each `update` reads only the
/// bytes appended since the last one, at most `maximumRead` of them (a long log is
/// caught up with over several ticks), and keeps a line cut at the end for the next.
/// A log that got shorter (rotated, replaced) is counted again from its start.
///
/// A log may be shared by several sandboxes (a policy's `audit` path): records are
/// kept per sandbox id. The `start` record's time is kept too: a sandbox's time limit
/// runs from its start.
public final class AuditEgressCounter {
    public let path: String
    public let maximumRead: Int
    /// Bytes of the log read so far.
    public private(set) var offset: UInt64 = 0
    public private(set) var tallies: [String: EgressTally] = [:]
    /// Seconds since the epoch of each sandbox's `start` record.
    public private(set) var started: [String: Double] = [:]
    /// The log could not be opened at the last update (unreadable); nil when it was
    /// read or does not exist yet (`missing`).
    public private(set) var unreadable: String?
    /// The log did not exist at the last update: a sandbox's first records are
    /// appended once it has started, so for a moment there is no log, and no egress.
    public private(set) var missing = false
    private var partial: [UInt8] = []

    /// A line longer than this is skipped, not held (a record is a few hundred bytes).
    static let maximumLine = 1 << 20

    public init(path: String, maximumRead: Int = 4 << 20) {
        self.path = path
        self.maximumRead = maximumRead
    }

    /// Reads what was appended since the last update.
    public func update() {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            missing = errno == ENOENT
            unreadable = missing ? nil : String(cString: strerror(errno))
            if missing, offset > 0 { reset() }
            return
        }
        defer { close(fd) }
        unreadable = nil
        missing = false
        var st = stat()
        guard fstat(fd, &st) == 0 else { return }
        let size = UInt64(max(0, st.st_size))
        if size < offset { reset() }
        guard size > offset else { return }
        var buffer = [UInt8](repeating: 0, count: Int(min(size - offset, UInt64(maximumRead))))
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard n > 0 else { return }
        offset += UInt64(n)
        consume(buffer[..<n])
    }

    /// Counts the whole lines in `bytes` (after what an earlier read left cut).
    func consume(_ bytes: ArraySlice<UInt8>) {
        var start = bytes.startIndex
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if partial.isEmpty {
                count(line: bytes[start..<newline])
            } else {
                partial += bytes[start..<newline]
                count(line: partial[...])
                partial.removeAll(keepingCapacity: true)
            }
            start = newline + 1
        }
        if partial.count + (bytes.endIndex - start) > Self.maximumLine {
            partial.removeAll()
        } else {
            partial += bytes[start...]
        }
    }

    private func reset() {
        offset = 0
        partial.removeAll()
        tallies.removeAll()
        started.removeAll()
    }

    private static let egressKind = Array("\"kind\":\"egress\"".utf8)
    private static let startKind = Array("\"kind\":\"start\"".utf8)

    private func count(line: ArraySlice<UInt8>) {
        // Most lines are neither: look for the kind's bytes before parsing anything
        // (AuditLog writes `"kind":"..."` exactly so, keys in a fixed order).
        let isEgress = Self.contains(line, Self.egressKind)
        guard isEgress || Self.contains(line, Self.startKind) else { return }
        guard let record = FlatJSONObject(parsing: Array(line)), let id = record.string("id") else { return }
        if !isEgress {
            if let time = record.string("time").flatMap(RFC3339.seconds) { started[id] = time }
            return
        }
        guard let details = record.object("details") else { return }
        var tally = tallies[id] ?? EgressTally()
        if let decision = details.object("decision") {
            if decision.string("decision") == "allowed" { tally.allowed += 1 } else { tally.refused += 1 }
            if let up = decision.uint64("bytesUp"), let down = decision.uint64("bytesDown") {
                tally.bytesUp += up
                tally.bytesDown += down
            } else {
                tally.recordsWithoutBytes += 1
            }
        } else if details.contains("dropped") {
            tally.capped = true
        }
        tallies[id] = tally
    }

    static func contains(_ line: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        guard line.count >= needle.count, let first = needle.first else { return false }
        var i = line.startIndex
        let last = line.endIndex - needle.count
        while i <= last {
            if line[i] == first, line[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
