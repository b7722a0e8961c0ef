/// Lexical path clean-up over UTF-8 bytes.
///
/// Written against the bytes rather than with split/joined: those generic
/// Character-based algorithms are not specialized for our types in the static
/// standard library, and their first use in a process instantiates metadata with a
/// scan of every protocol conformance record in the binary (a quarter of a
/// millisecond each, on every `create`).
public enum PathText {
    /// "/" followed by the non-empty components of `path`, with "." dropped and ".."
    /// removing the component before it (never going above "/").
    public static func normalize(_ path: String) -> String {
        if isNormal(path) { return path }
        var parts: [ArraySlice<UInt8>] = []
        let bytes = Array(path.utf8)
        var start = 0
        var i = 0
        while i <= bytes.count {
            if i == bytes.count || bytes[i] == UInt8(ascii: "/") {
                let part = bytes[start..<i]
                if part.count == 1 && part.first == UInt8(ascii: ".") {
                    // skip
                } else if part.count == 2 && part.first == UInt8(ascii: ".") && part.last == UInt8(ascii: ".") {
                    _ = parts.popLast()
                } else if !part.isEmpty {
                    parts.append(part)
                }
                start = i + 1
            }
            i += 1
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 1)
        for part in parts {
            out.append(UInt8(ascii: "/"))
            out.append(contentsOf: part)
        }
        if out.isEmpty { return "/" }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `normalize` would return `path` unchanged: "/" or "/" followed by
    /// components that are neither empty, "." nor "..", with no trailing slash.
    /// Nearly every path a spec or the runtime builds already is; checking is a
    /// fraction of the cost of taking it apart and joining it again.
    static func isNormal(_ path: String) -> Bool {
        var utf8 = path.utf8.makeIterator()
        guard utf8.next() == UInt8(ascii: "/") else { return false }
        if path.utf8.count == 1 { return true }
        // Length of the current component, and whether it is all dots so far.
        var length = 0
        var dots = 0
        while let byte = utf8.next() {
            if byte == UInt8(ascii: "/") {
                if length == 0 || (length == dots && dots <= 2) { return false }
                length = 0
                dots = 0
            } else {
                length += 1
                if byte == UInt8(ascii: ".") { dots += 1 }
            }
        }
        return length > 0 && !(length == dots && dots <= 2)
    }
}
