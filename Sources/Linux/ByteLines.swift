/// Line and field splitting on the bytes of a small system file (/proc/self/cgroup,
/// /proc/self/mountinfo, /etc/passwd, the cgroup placement message), for the parsers
/// on the container start-up path: the standard library's generic `split` over
/// Strings or Substrings cost them 10-100 K instructions a file.
public enum ByteLines {
    /// Calls `body` with the range of each line of `bytes` (without its "\n"), empty
    /// lines included; a last line without "\n" counts.
    public static func forEach(in bytes: [UInt8], _ body: (Range<Int>) throws -> Void) rethrows {
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            try body(start..<end)
            start = end + 1
        }
    }

    /// The positions of the first `limit` occurrences of `separator` in
    /// `bytes[range]`, in `positions` (emptied first; one array reused for every line
    /// of a file). A line of N fields has N - 1 of them.
    public static func separators(_ separator: UInt8, in bytes: [UInt8], _ range: Range<Int>, limit: Int,
                                  into positions: inout [Int]) {
        positions.removeAll(keepingCapacity: true)
        var i = range.lowerBound
        while i < range.upperBound && positions.count < limit {
            if bytes[i] == separator { positions.append(i) }
            i += 1
        }
    }
}
