// Compact JSON text with sorted keys, from JSON text: what the audit log writes for a
// record's details (the same details always make the same bytes). The appender runs
// once per `agent run` burst in a fresh process, where JSONSerialization's first use
// cost ~3.7M of its 5.5M instructions (callgrind); this parser and writer cost a few
// thousand. It is not the spec's encoder: it re-writes JSON text of any shape (audit
// details arrive as text), where FastEncoding writes the spec's types member by member.

public enum CanonicalJSON {
    /// `bytes` re-written compact with every object's keys sorted; nil unless they are
    /// one JSON object (strict: no duplicate keys, valid UTF-8). Numbers keep their text.
    public static func object(_ bytes: [UInt8]) -> String? {
        guard let tree = try? JSONTreeParser.parse(bytes, mode: .strict), case .object = tree else { return nil }
        var out = ""
        write(tree, to: &out)
        return out
    }

    static func write(_ tree: JSONTree, to out: inout String) {
        switch tree {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): out += FlatJSONWriter.quoted(s)
        case .unreadableString: out += FlatJSONWriter.quoted("\u{FFFD}") // only the spec decoder's mode makes it
        case .array(let elements):
            out += "["
            for (i, e) in elements.enumerated() {
                if i > 0 { out += "," }
                write(e, to: &out)
            }
            out += "]"
        case .object(let o):
            out += "{"
            // Sorted by UTF-8 bytes, as JSONSerialization's .sortedKeys orders ASCII keys.
            let order = o.keys.indices.sorted { o.keys[$0].utf8.lexicographicallyPrecedes(o.keys[$1].utf8) }
            for (n, i) in order.enumerated() {
                if n > 0 { out += "," }
                out += FlatJSONWriter.quoted(o.keys[i]) + ":"
                write(o.values[i], to: &out)
            }
            out += "}"
        }
    }
}
