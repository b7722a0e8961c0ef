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

    /// Writes `tree` with every object's keys sorted by UTF-8 bytes (as
    /// JSONSerialization's .sortedKeys orders ASCII keys): compact, or with `pretty`
    /// in JSONEncoder's pretty layout, two spaces a level, `"key" : value`, and empty
    /// containers as it writes them ("[\n\n  ]"), which FastEncoding's sorted spec
    /// documents use.
    static func write(_ tree: JSONTree, pretty: Bool = false, depth: Int = 0, to out: inout String) {
        let open = pretty ? "\n" : "", comma = pretty ? ",\n" : ",", colon = pretty ? " : " : ":"
        let inner = pretty ? String(repeating: "  ", count: depth + 1) : ""
        let close = pretty ? "\n" + String(repeating: "  ", count: depth) : ""
        switch tree {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): out += FlatJSONWriter.quoted(s)
        case .unreadableString: out += FlatJSONWriter.quoted("\u{FFFD}") // only the spec decoder's mode makes it
        case .array(let elements):
            out += "[" + open
            for (i, e) in elements.enumerated() {
                out += (i > 0 ? comma : "") + inner
                write(e, pretty: pretty, depth: depth + 1, to: &out)
            }
            out += close + "]"
        case .object(let o):
            out += "{" + open
            let order = o.keys.indices.sorted { o.keys[$0].utf8.lexicographicallyPrecedes(o.keys[$1].utf8) }
            for (n, i) in order.enumerated() {
                out += (n > 0 ? comma : "") + inner + FlatJSONWriter.quoted(o.keys[i]) + colon
                write(o.values[i], pretty: pretty, depth: depth + 1, to: &out)
            }
            out += close + "}"
        }
    }
}
