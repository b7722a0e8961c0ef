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
}
