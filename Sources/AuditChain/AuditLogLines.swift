#if canImport(Glibc)
import Glibc
#endif

/// A log's bytes read from the end, line by line: an append needs its last line, the
/// line its head names (at most a batch back) and the last record of one sandbox,
/// whatever the log's length, and a split of the whole file would cost each append
/// time in proportion to everything written before it.
struct AuditLogLines {
    let bytes: [UInt8]

    /// The first line (without its newline).
    var first: ArraySlice<UInt8> {
        let end = bytes.withUnsafeBufferPointer { b -> Int in
            guard let base = b.baseAddress, let p = memchr(base, 10, b.count) else { return b.count }
            return base.distance(to: p.assumingMemoryBound(to: UInt8.self))
        }
        return bytes[0..<end]
    }

    /// The lines, last first (each without its newline); the bytes must end in one.
    func backwards() -> Backwards { Backwards(bytes: bytes, end: bytes.count - 1) }

    /// A concrete iterator, not AnyIterator: the first AnyIterator of a type has the
    /// Swift runtime instantiate its box's metadata, which scans every protocol
    /// conformance of this static binary (0.3 ms of each audit append, perf).
    struct Backwards: IteratorProtocol, Sequence {
        let bytes: [UInt8]
        var end: Int

        mutating func next() -> ArraySlice<UInt8>? {
            guard end >= 0 else { return nil }
            // memrchr is a GNU extension the Glibc module does not export.
            let start = bytes.withUnsafeBufferPointer { b -> Int in
                guard let base = b.baseAddress else { return 0 }
                var i = end - 1
                while i >= 0 && base[i] != 10 { i -= 1 }
                return i + 1
            }
            defer { end = start - 1 }
            return bytes[start..<end]
        }
    }

    /// The sequence number, id and kind of a line in the layout AuditLog writes
    /// (`{"seq":N,"time":"...","id":"...","kind":"...",...`), read from its first bytes
    /// without parsing its details; nil for another layout.
    static func header(_ line: ArraySlice<UInt8>) -> (seq: UInt64, id: [UInt8], kind: [UInt8])? {
        var i = line.startIndex
        func expect(_ text: String) -> Bool {
            for c in text.utf8 {
                guard i < line.endIndex, line[i] == c else { return false }
                i += 1
            }
            return true
        }
        /// A JSON string literal's bytes, quotes included.
        func quoted() -> [UInt8]? {
            let start = i
            guard i < line.endIndex, line[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            while i < line.endIndex {
                if line[i] == UInt8(ascii: "\\") { i += 2; continue }
                if line[i] == UInt8(ascii: "\"") { i += 1; return Array(line[start..<i]) }
                i += 1
            }
            return nil
        }
        guard expect("{\"seq\":") else { return nil }
        var seq: UInt64 = 0
        let digits = i
        while i < line.endIndex, line[i] >= 48, line[i] <= 57 {
            let (m, o1) = seq.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(line[i] - 48))
            guard !o1, !o2 else { return nil }
            seq = s
            i += 1
        }
        guard i > digits, expect(",\"time\":"), quoted() != nil, expect(",\"id\":"), let id = quoted(),
              expect(",\"kind\":"), let kind = quoted() else { return nil }
        return (seq, id, kind)
    }
}
